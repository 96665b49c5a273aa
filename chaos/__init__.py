"""`make chaos`: accepted data is never lost or double-counted, proven under kill -9 and server
faults while samples keep arriving over HTTP and AMQP (docs/reliability.md)."""
