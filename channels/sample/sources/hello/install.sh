# Installs the program in $out and the manual in $doc.
. ./config.status
mkdir -p "$prefix/bin" "$doc/share/doc/hello"
cp hello "$prefix/bin/hello"
cp README "$doc/share/doc/hello/README"
