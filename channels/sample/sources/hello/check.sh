# The tests run the built program before installation.
out="$(sh ./hello -g hi)"
[ "$out" = "hi" ] || { echo "hello -g failed: $out" >&2; exit 1; }
[ -n "$(sh ./hello)" ] || { echo "hello printed nothing" >&2; exit 1; }
echo "2 tests passed"
