package auth

import (
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary strings to Verify: none may panic, and none but the one genuine
// token may verify.
func FuzzVerify(f *testing.F) {
	key := rsaKey(f, 0)
	srv := newJWKSServer(f, jwkOf(f, key, "k1", "RS256"))
	v, _ := newTestVerifier(f, srv)
	iss := srv.issuer()
	genuine := signRS256(f, key, hdr("RS256", "k1"), idClaims(iss))
	parts := strings.Split(genuine, ".")

	f.Add(genuine)
	f.Add(signRS256(f, key, hdr("RS256", "k1"), accessClaims(iss)))
	f.Add(b64JSON(f, hdr("none", "k1")) + "." + parts[1] + ".")
	f.Add(b64JSON(f, hdr("HS256", "k1")) + "." + parts[1] + "." + parts[2])
	f.Add(b64JSON(f, with(hdr("RS256", "k1"), "jku", "http://127.0.0.1:1/")) + "." + parts[1] + "." + parts[2])
	f.Add(b64JSON(f, with(hdr("RS256", "k1"), "crit", []string{"b64"}, "b64", false)) + "." + parts[1] + "." + parts[2])
	f.Add(parts[0] + "." + b64JSON(f, with(idClaims(iss), "exp", "soon")) + "." + parts[2])
	f.Add(parts[0] + "." + b64([]byte("[]")) + "." + parts[2])
	f.Add(genuine + ".x.y")
	f.Add(`{"payload":"e30","signatures":[]}`)
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.AA")

	f.Fuzz(func(t *testing.T, token string) {
		claims, err := v.Verify(t.Context(), token, Requirement{})
		if err == nil && token != genuine {
			t.Fatalf("forged token verified: %q -> %+v", token, claims)
		}
		if err != nil && claims != nil {
			t.Fatalf("claims returned with error %v", err)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	key := rsaKey(b, 0)
	srv := newJWKSServer(b, jwkOf(b, key, "k1", "RS256"))
	v, _ := newTestVerifier(b, srv)
	tok := signRS256(b, key, hdr("RS256", "k1"), idClaims(srv.issuer()))
	if _, err := v.Verify(b.Context(), tok, Requirement{}); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(b.Context(), tok, Requirement{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(b.Context(), tok, Requirement{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("refused-garbage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(b.Context(), "garbage.garbage.garbage", Requirement{}); err == nil {
				b.Fatal("garbage verified")
			}
		}
	})
	if n := srv.hits.Load(); n != 1 {
		b.Fatalf("JWKS fetched %d times, want 1", n)
	}
}
