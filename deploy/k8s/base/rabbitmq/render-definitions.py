import base64, hashlib, json, os, pathlib, secrets, string, sys

VHOST = "/"
SERVICES = ("gateway", "ingest", "share", "aggregator", "alerter", "reporter")
URL_SAFE = set(string.ascii_letters + string.digits + "-._~")
topology = pathlib.Path(os.environ["PULSE_TOPOLOGY_FILE"])
out = pathlib.Path(os.environ["PULSE_DEFINITIONS_OUT"])


def fail(message):
    sys.exit(f"rabbitmq-init: {message}")


def password(name, url_safe=True):
    value = os.environ.get(name, "")
    if not value:
        fail(f"{name} is empty")
    if url_safe and not set(value) <= URL_SAFE:
        fail(f"{name} goes into an amqp:// URL: use only A-Z a-z 0-9 - . _ ~")
    return value


def user(name, secret, tags=()):
    salt = secrets.token_bytes(4)
    digest = hashlib.sha256(salt + secret.encode()).digest()
    return {
        "name": name,
        "password_hash": base64.b64encode(salt + digest).decode(),
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": list(tags),
    }


def grant(name, configure, write, read):
    return {"user": name, "vhost": VHOST, "configure": configure, "write": write, "read": read}


definitions = {}
if topology.is_file():
    definitions = json.loads(topology.read_text())
else:
    print(f"rabbitmq-init: no {topology}; users only (services declare topology at start-up)")
for key in ("users", "permissions", "topic_permissions"):
    if definitions.get(key):
        fail(f"{topology} must not define {key}: they come from the environment")
vhosts = definitions.setdefault("vhosts", [])
if not any(v.get("name") == VHOST for v in vhosts):
    vhosts.insert(0, {"name": VHOST})

admin = os.environ.get("RABBITMQ_ADMIN_USER") or "pulse-admin"
users = [user(admin, password("RABBITMQ_ADMIN_PASSWORD", url_safe=False), ["administrator"])]
permissions = [grant(admin, ".*", ".*", ".*")]
for svc in SERVICES:
    # The shared exchanges, its own <svc>.* queues and DLQs, server-named queues.
    own = rf"^(pulse\.(events|ingest|dlx)|{svc}\..+|amq\.gen-.+)$"
    users.append(user(f"pulse_{svc}", password(f"PULSE_{svc.upper()}_AMQP_PASSWORD")))
    permissions.append(grant(f"pulse_{svc}", own, own, own))
# n8n: publish to pulse.ingest only. Configure is needed because n8n's RabbitMQ node
# asserts the exchange before publishing; read nothing.
users.append(user("n8n", password("PULSE_N8N_AMQP_PASSWORD", url_safe=False)))
permissions.append(grant("n8n", r"^pulse\.ingest$", r"^pulse\.ingest$", "^$"))
definitions["users"] = users
definitions["permissions"] = permissions
definitions["topic_permissions"] = [
    {"user": "n8n", "vhost": VHOST, "exchange": "pulse.ingest",
     "write": r"^ingest\.posts$", "read": "^$"}
]

tmp = out.with_name(out.name + ".tmp")
tmp.write_text(json.dumps(definitions, indent=2, sort_keys=True))
tmp.chmod(0o444)  # the broker runs as its own user; only these two containers mount it
tmp.replace(out)
print(f"rabbitmq-init: wrote {out}: {len(users)} users, "
      f"{len(definitions.get('queues', []))} queues")
