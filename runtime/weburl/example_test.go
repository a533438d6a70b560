package weburl_test

import (
	"fmt"

	"github.com/picloud/picloud/runtime/weburl"
)

func Example() {
	u, err := weburl.ParseWithBase("../b?x=1#top", "https://Example.COM:443/a/c")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Href(), u.Origin())

	// url.searchParams stays linked to url.search in both directions.
	sp := u.SearchParams()
	sp.Append("q", "a b")
	fmt.Println(u.Search())
	u.SetSearch("?only=1")
	fmt.Println(sp.Len(), sp.String())

	u.SetHostname("bücher.de")
	fmt.Println(u.Host())
	// Output:
	// https://example.com/b?x=1#top https://example.com
	// ?x=1&q=a+b
	// 1 only=1
	// xn--bcher-kva.de
}
