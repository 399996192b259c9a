# Generates the hello program from its template and config.status.
. ./config.status
message="Hello, world!"
if [ -n "$greeting" ] && [ -f "$greeting" ]; then message="$(cat "$greeting")"; fi
sed "s|@MESSAGE@|$message|" hello.in > hello
chmod +x hello
