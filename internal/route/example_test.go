package route_test

import (
	"errors"
	"fmt"

	"github.com/picloud/picloud/internal/route"
)

func Example() {
	claims, _ := route.NewDomainTable([]route.Claim{
		{ID: "c1", Pattern: "{tenant}.example.com", AppID: "shop"},
	})
	claim, hostParams, _ := claims.Match("acme.example.com:443")

	routes, _ := route.NewTable([]route.Route{
		{ID: "r1", Method: "GET", Path: "/users/:id", Target: "script-users"},
		{ID: "r2", Method: "*", Path: "/users/me", Target: "script-me"},
		{ID: "r3", Method: "*", Path: "/static/*", Target: "script-static"},
	})
	m, _ := routes.Match("GET", "acme.example.com", "/users/42")
	fmt.Println(claim.AppID, hostParams["tenant"], m.Route.Target, m.Params["id"])
	m, _ = routes.Match("GET", "acme.example.com", "/users/me")
	fmt.Println(m.Route.Target)
	m, _ = routes.Match("GET", "acme.example.com", "/static/css/a.css")
	fmt.Println(m.Route.Target, m.Rest)

	err := routes.Check(route.Route{ID: "r4", Method: "GET", Path: "/users/:userId"})
	var ce *route.ConflictError
	fmt.Println(errors.Is(err, route.ErrConflict), errors.As(err, &ce) && ce.Existing.ID == "r1")
	err = routes.Check(route.Route{Path: "/users/a:b"})
	fmt.Println(errors.Is(err, route.ErrInvalidPattern), err)
	// Output:
	// shop acme script-users 42
	// script-me
	// script-static css/a.css
	// true true
	// true invalid path "/users/a:b": colon in mid-segment at position 8
}
