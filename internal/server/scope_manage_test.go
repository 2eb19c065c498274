package server

import (
	"strings"
	"testing"
)

// TestScopedUploadAndList: the management routes keep the key's scope. A
// tenant-A write key cannot upload a document for tenant B, cannot
// overwrite tenant A's ACL-restricted document it may not read, and its
// uploads land in tenant A; a tenant-B key lists none of tenant A's
// documents even when it names tenant A; export and backup need admin.
func TestScopedUploadAndList(t *testing.T) {
	k := newKeyring(t, nil)

	k.as(k.aliceWrite)
	ct, body := multipartBody(t, nil, uploadPart{"notes.txt", "Quarterly notes about zebracorn feeding."})
	res := k.upload("c", ct, body).mustStatus(t, 200)
	if strings.Contains(string(res.body), `"error"`) {
		t.Fatalf("upload by a write key failed: %s", res.body)
	}
	ct, body = multipartBody(t, nil, uploadPart{"b.jsonl", `{"id":"planted","text":"planted in B","tenant":"B"}` + "\n"})
	res = k.upload("c", ct, body)
	if !strings.Contains(string(res.body), "forbidden") {
		t.Fatalf("a tenant-A key planted a tenant-B document: %d %s", res.status, res.body)
	}
	ct, body = multipartBody(t, map[string]string{"tenant": "B"}, uploadPart{"b.txt", "planted through the form field"})
	res = k.upload("c", ct, body)
	if !strings.Contains(string(res.body), "forbidden") {
		t.Fatalf("the tenant form field widened a scoped key: %d %s", res.status, res.body)
	}
	k.as(k.bobWrite)
	ct, body = multipartBody(t, nil, uploadPart{"s.jsonl", `{"id":"secret","text":"overwritten by bob"}` + "\n"})
	res = k.upload("c", ct, body)
	if !strings.Contains(string(res.body), "forbidden") {
		t.Fatalf("bob overwrote alice's restricted document by upload: %d %s", res.status, res.body)
	}

	k.as(k.otherTenant)
	for _, path := range []string{"/v1/collections/c/documents", "/v1/collections/c/documents?tenant=A&principal=alice"} {
		r := k.do("GET", path, nil)
		if r.status == 200 && (strings.Contains(string(r.body), `"secret"`) || strings.Contains(string(r.body), "notes.txt")) {
			t.Fatalf("%s: a tenant-B key listed tenant A's documents: %s", path, r.body)
		}
	}
	k.as(k.aliceRead)
	r := k.do("GET", "/v1/collections/c/documents", nil).mustStatus(t, 200)
	if !strings.Contains(string(r.body), `"secret"`) || !strings.Contains(string(r.body), "notes.txt") {
		t.Fatalf("alice's key does not list her tenant's documents: %s", r.body)
	}
	for _, path := range []string{"/v1/collections/c/export", "/v1/collections/c/backup"} {
		if r := k.do("GET", path, nil); r.status != 403 {
			t.Fatalf("%s with a read key: %d, want 403", path, r.status)
		}
	}
}
