#!/bin/sh
# Regenerates the groff-made test PDFs (layout, ligatures, two columns).
# Needs groff with its PDF device (Debian: apt-get install groff).
set -e
cd "$(dirname "$0")"
for f in layout ligatures twocolumn; do
	groff -ms -T pdf "$f.ms" > "../$f.pdf"
done
