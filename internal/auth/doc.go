// Package auth owns Quarry's API keys: how a secret looks, how it is stored
// (hashed, in a crash-safe file in the data directory), and how a request's
// Authorization header is turned into a Key.
//
// A secret is "qk_" + a 16-hex-digit key id + "_" + 43 characters of
// base64url (256 random bits). The id finds the record in O(1); the record
// holds SHA-256 of the random part, compared in constant time, so the file
// never holds a usable secret. A Key carries a Role (read < write < admin),
// the tenant and principals every request made with it acts as, an optional
// expiry and a rate.
//
// The key file (keys.json) is rewritten whole on every change: temporary
// file, write, fsync, close, rename, fsync of the directory, so a crash
// leaves the old or the new file, never a mix. Changes from several
// processes are serialised by an advisory lock on keys.json.lock. A Store
// reloads the file when it changed on disk, at most once per ReloadEvery,
// so `quarry keys revoke` takes effect on a running server within that
// interval.
//
// A Store is safe for concurrent use.
//
//	st, _ := auth.Open(dataDir)
//	k, secret, _ := st.Create(auth.Spec{Tenant: "acme", Role: auth.RoleRead})
//	key, err := st.Authenticate(auth.ParseBearer(r.Header.Get("Authorization")))
package auth
