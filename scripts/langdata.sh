#!/usr/bin/env bash
# Rebuilds internal/text/data (stopword lists, word lists for Thai and
# Lao, German noun forms for decompounding, the Arabic lexicon) from the
# published packages named in internal/text/data/NOTICE.
# The results are committed; run this only to refresh or audit them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/internal/text/data"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

lucene=9.12.3
mvn -q dependency:get -Dartifact=org.apache.lucene:lucene-analysis-common:$lucene -Dtransitive=false
jar="$HOME/.m2/repository/org/apache/lucene/lucene-analysis-common/$lucene/lucene-analysis-common-$lucene.jar"
(cd "$tmp" && unzip -q "$jar" 'org/apache/lucene/analysis/*/stopwords.txt')
for p in bg:bg bn:bn ca:ca ckb:ckb cz:cs el:el et:et eu:eu fa:fa ga:ga gl:gl hy:hy id:id lt:lt lv:lv ne:ne sr:sr ta:ta te:te th:th; do
	cp "$tmp/org/apache/lucene/analysis/${p%%:*}/stopwords.txt" "$out/stopwords/${p##*:}.txt"
done

(cd "$tmp" && unzip -q -o "$jar" 'org/apache/lucene/analysis/snowball/*_stop.txt')
for p in danish:da dutch:nl english:en finnish:fi french:fr german:de hungarian:hu indonesian:id italian:it \
	norwegian:no portuguese:pt russian:ru spanish:es swedish:sv; do
	cp "$tmp/org/apache/lucene/analysis/snowball/${p%%:*}_stop.txt" "$out/detect/${p##*:}.txt"
done

pip download --quiet --no-deps -d "$tmp" pythainlp==5.4.0 laonlp==1.3.0
(cd "$tmp" && unzip -q -o pythainlp-5.4.0-py3-none-any.whl pythainlp/corpus/words_th.txt &&
	unzip -q -o laonlp-1.3.0-py3-none-any.whl laonlp/corpus/Lao-Dictionary.txt laonlp/corpus/stopwords_lao.txt)
cp "$tmp/laonlp/corpus/stopwords_lao.txt" "$out/stopwords/lo.txt"
grep -v '^#' "$tmp/pythainlp/corpus/words_th.txt" | LC_ALL=C sort -u | gzip -9n >"$out/dict/th.txt.gz"
grep -v '^#' "$tmp/laonlp/corpus/Lao-Dictionary.txt" | sed 's/\r$//' | grep -v '^[[:space:]]*$' |
	LC_ALL=C sort -u | gzip -9n >"$out/dict/lo.txt.gz"
# German compound dictionary: every inflected form of every noun in
# german-nouns (German Wiktionary, CC BY-SA 4.0), NFKC and case-folded as the
# analyzer folds words (ß → ss), letters only, at least 4 letters.
pip download --quiet --no-deps -d "$tmp" german-nouns==1.2.5
(cd "$tmp" && unzip -q -o german_nouns-1.2.5-py3-none-any.whl german_nouns/nouns.csv)
python3 - "$tmp/german_nouns/nouns.csv" <<'PY' | LC_ALL=C sort -u | gzip -9n >"$out/dict/de-nouns.txt.gz"
import csv, sys, unicodedata
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    next(rows)
    for row in rows:
        if "Substantiv" not in row[1]:
            continue
        for v in row[7:]:  # the inflected forms; 0-6 are lemma, part of speech, genus
            v = unicodedata.normalize("NFKC", v.strip()).casefold()
            if len(v) >= 4 and v.isalpha():
                print(v)
PY
# Arabic lexicon: the words of the Ayaspell dictionary (Debian package
# hunspell-ar, GPL-2+/LGPL-2.1+/MPL-1.1), without affix rules; the clitic
# forms its function-word lists spell out (وبيد, فبالله) are left out.
(cd "$tmp" && apt-get download hunspell-ar=3.2-1.2 >/dev/null && dpkg-deb -x hunspell-ar_3.2-1.2_all.deb hunspell-ar)
python3 - "$tmp/hunspell-ar/usr/share/hunspell/ar.dic" <<'PY2' | LC_ALL=C sort -u | gzip -9n >"$out/dict/ar.txt.gz"
import re, sys
proclitics = ["و", "ف", "ب", "ك", "ل", "أ", "وب", "فب", "وك", "فك", "ول", "فل", "أو", "أف", "أب", "أك", "أل",
              "أوب", "أفب", "أوك", "أفك", "أول", "أفل", "لب", "لك", "ولب", "ولك", "يا"]
arabic = re.compile(r"^[\u0621-\u064A\u0671]+$")
sections, cur = {}, None
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[1:]
i = 0
while i < len(lines):
    l = lines[i].strip()
    if l.startswith("::::"):  # "::::", the part's file name, "::::"
        cur = lines[i + 1].strip()
        sections[cur] = []
        i += 3
        continue
    word, _, flags = l.split("\t")[0].partition("/")
    if cur and arabic.match(word):
        sections[cur].append((word, flags))
    i += 1
for name, entries in sections.items():
    words = {w for w, _ in entries}
    for w, flags in entries:
        if (name in ("stopwords.dic", "tools.dic") or not flags) and any(
                w.startswith(p) and w[len(p):] in words for p in proclitics):
            continue
        print(w)
PY2
echo "rebuilt $out"
