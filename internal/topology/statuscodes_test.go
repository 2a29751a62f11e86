package topology

import "testing"

func TestStatusCodes(t *testing.T) {
	tests := []struct {
		in    string
		ok    bool
		str   string
		in200 bool
		in204 bool
		in302 bool
		in500 bool
	}{
		{"200", true, "200", true, false, false, false},
		{"200,204", true, "200,204", true, true, false, false},
		{"200-299", true, "200-299", true, true, false, false},
		{" 200 - 204 , 302 ", true, "200-204,302", true, true, true, false},
		{"200-499", true, "200-499", true, true, true, false},
		{"", false, "", false, false, false, false},
		{"199", false, "", false, false, false, false},
		{"200-500", false, "", false, false, false, false},
		{"204-200", false, "", false, false, false, false},
		{"2xx", false, "", false, false, false, false},
		{"200,", false, "", false, false, false, false},
	}
	for _, tt := range tests {
		c, err := ParseStatusCodes(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseStatusCodes(%q) error %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if c.String() != tt.str || c.Empty() == tt.ok {
			t.Errorf("ParseStatusCodes(%q) = %q (empty %v), want %q", tt.in, c.String(), c.Empty(), tt.str)
		}
		for code, want := range map[int]bool{200: tt.in200, 204: tt.in204, 302: tt.in302, 500: tt.in500} {
			if c.Contains(code) != want {
				t.Errorf("ParseStatusCodes(%q).Contains(%d) = %v", tt.in, code, !want)
			}
		}
	}
	// Parse provisions every health check's codes from the text.
	topo, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if hc := topo.Services[0].HealthCheck; !hc.Success.Contains(200) || hc.Success.Contains(204) || hc.ForLocal().Success.String() != "200" {
		t.Errorf("provisioned success codes %q", hc.Success)
	}
}
