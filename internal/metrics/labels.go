package metrics

import "net/http"

// Unmatched is the route label of a request that matched no route (a 404 or 405), so that
// random paths share one series.
const Unmatched = "unmatched"

// methods are the request methods kept as label values; anything else is "OTHER".
var methods = map[string]string{
	http.MethodGet: http.MethodGet, http.MethodHead: http.MethodHead, http.MethodPost: http.MethodPost,
	http.MethodPut: http.MethodPut, http.MethodPatch: http.MethodPatch, http.MethodDelete: http.MethodDelete,
	http.MethodOptions: http.MethodOptions,
}

// Method returns m when it is a standard method, "OTHER" otherwise: a client cannot add a
// label value by inventing a method.
func Method(m string) string {
	if v, ok := methods[m]; ok {
		return v
	}
	return "OTHER"
}

var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// StatusClass returns "2xx" for 200..299 and so on; "0xx" for a response that was cut off
// (status 0) or any code outside 100..599.
func StatusClass(code int) string {
	if code >= 100 && code < 600 {
		return classes[code/100-1]
	}
	return "0xx"
}

// bounded returns v when it is in the set, else other. It guards label values that come from
// configuration but reach the collector as plain strings.
func bounded(v string, set map[string]bool, other string) string {
	if set[v] {
		return v
	}
	return other
}
