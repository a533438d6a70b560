package node

import "testing"

func TestFromEnvHTTPAllowPrivate(t *testing.T) {
	cases := []struct {
		name, value string
		want        bool
		wantErr     bool
	}{
		{name: "unset", value: "", want: false},
		{name: "true", value: "true", want: true},
		{name: "one", value: "1", want: true},
		{name: "false", value: "false", want: false},
		{name: "garbage", value: "yes please", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Defaults(ModeDev).FromEnv(func(k string) string {
				if k == "PICLOUD_HTTP_ALLOW_PRIVATE" {
					return tc.value
				}
				return ""
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && c.HTTPAllowPrivate != tc.want {
				t.Fatalf("HTTPAllowPrivate = %v, want %v", c.HTTPAllowPrivate, tc.want)
			}
		})
	}
}
