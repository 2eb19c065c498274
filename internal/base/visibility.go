package base

// Visible is the one rule for who may read a document: a request sees a
// document only if their tenants are equal ("" is the shared tenant, seen
// only by requests without a tenant) and, when the document has an ACL, one
// of the request's principals is in it. acl need not be sorted.
func Visible(docTenant string, acl []string, tenant string, principals []string) bool {
	if docTenant != tenant {
		return false
	}
	if len(acl) == 0 {
		return true
	}
	for _, p := range principals {
		for _, a := range acl {
			if a == p {
				return true
			}
		}
	}
	return false
}
