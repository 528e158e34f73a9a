package httpapi

import (
	"net/url"
	"slices"
	"strings"
)

// OriginAllowed reports whether a request's Origin header is one of the
// allowed origins, compared as browsers send them: scheme and host in
// lower case, without the scheme's default port or a trailing slash (so
// "https://Shop.Example.jp:443/" in the settings matches what a browser
// sends for that page). An empty or "null" Origin is never allowed.
func OriginAllowed(allowed []string, origin string) bool {
	o := normalizeOrigin(origin)
	return o != "" && slices.ContainsFunc(allowed, func(a string) bool { return normalizeOrigin(a) == o })
}

func normalizeOrigin(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host
}
