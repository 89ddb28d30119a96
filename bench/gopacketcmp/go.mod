module github.com/fastop/fastop/bench/gopacketcmp

go 1.26.0

require (
	github.com/fastop/fastop v0.0.0
	github.com/google/gopacket v1.1.19
)

require golang.org/x/sys v0.50.0

replace github.com/fastop/fastop => ../..
