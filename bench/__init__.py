"""`make bench`: Pulse's performance benchmark (design/performance.md, targets P1–P9).

Everything is measured through public surfaces — HTTP, AMQP, SQL sizes — against all five
services started as processes on real PostgreSQL and RabbitMQ, so the harness keeps working
while the services' internals change. Only the seeder writes another service's tables (the
10M raw samples, with COPY), and it says so where it does.
"""
