// Package pii finds personal data in text and replaces it with typed
// placeholders before the text leaves for a language model, then puts the
// values back into the model's answer (the anonymize / deanonymize pattern
// of Microsoft Presidio).
//
// Scan finds e-mail addresses, phone numbers (international and the
// national formats of the US, UK, DE, FR, ES, NL, IT), payment cards
// (issuer prefix, length and Luhn), IBANs (country length and ISO 7064
// mod 97-10), IPv4 and IPv6 addresses (net/netip), and national
// identifiers with check digits or strict formats: US SSN (SSA area,
// group and serial rules), UK NINO (prefix rules), German tax id (ISO 7064
// MOD 11,10 and the repeated-digit rule), French NIR (key mod 97,
// Corsica), Spanish DNI/NIE (letter mod 23), Dutch BSN (11-test) and
// Italian codice fiscale (check character). Values may be written with
// spaces, dashes, dots or no-break spaces between digit groups. Where two
// kinds claim the same characters the stronger check wins (a checksum over
// a format, a format over a phone number's shape), and a number glued to
// more digits is not taken as a value.
//
// Redactor.Redact replaces each value with "<KIND_n>" and records it in a
// Map; one value (compared without separators, e-mail case-folded) has one
// placeholder in a request, so the model can tell that two sources name
// the same person. RedactWith redacts several texts (question and sources)
// into one Map. Map.Restore puts values back into an answer, accepting the
// forms models echo ("<EMAIL_1>", "&lt;EMAIL_1&gt;", "[EMAIL_1]",
// "EMAIL_1", "<email-1>"); Map.Restorer does the same on a stream,
// holding back a tail that may be the start of a placeholder.
//
// Policy {Index, LLM} is a collection's setting: Index: Redact stores
// placeholders instead of values (redact the document before chunking, so
// no value is split across chunks); LLM: Redact redacts question and
// sources per request and restores the answer.
//
// Concurrency: Scan and a Redactor are safe for concurrent use; a Map
// locks itself; a Restorer belongs to one stream.
//
// Caveats: detection is by pattern and checksum, with no context words and
// no names or addresses (those need an NER model); a phone number without
// a national prefix or separators is easily confused with other numbers
// and is found only in the formats listed. Texts over MaxScanBytes are
// scanned in overlapping pieces.
//
// Example:
//
//	red, m := pii.NewRedactor(nil).Redact("Mail anna@example.com")
//	// red == "Mail <EMAIL_1>"; send red to the model, then:
//	answer = m.Restore(answer)
package pii
