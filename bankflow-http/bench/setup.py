import json, sys, urllib.request, uuid
B = sys.argv[1]
def call(method, path, token=None, body=None, headers=None, raw=None, ctype="application/json"):
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode(); h["content-type"] = ctype
    if raw is not None:
        data, h["content-type"] = raw
    if token: h["authorization"] = "Bearer " + token
    req = urllib.request.Request(B + path, data=data, method=method, headers=h)
    with urllib.request.urlopen(req) as r:
        t = r.read()
        return json.loads(t) if t and r.headers.get("content-type","").startswith("application/json") else t
PW = "correct horse battery staple"
admin = call("POST", "/api/v1/auth/login", body={"email": "admin@example.com", "password": PW})["access_token"]
def customer_pair(i):
    """One KYC-approved customer with a funded checking and a savings account."""
    email = f"bench-{i}-{uuid.uuid4().hex}@example.com"
    call("POST", "/api/v1/auth/register", body={"email": email, "password": PW})
    tok = call("POST", "/api/v1/auth/login", body={"email": email, "password": PW})["access_token"]
    c = call("POST", "/api/v1/customers", tok, {"first_name": "Bench", "last_name": "User", "date_of_birth": "1990-01-01",
        "address_line1": "1 Main", "city": "X", "state": "IL", "zip_code": "62701", "country": "US"})
    bnd = "b0undary"
    png = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + b"\0" * 8
    body = (f"--{bnd}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\nPASSPORT\r\n--{bnd}\r\n"
            f"Content-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n\r\n").encode() + png + f"\r\n--{bnd}--\r\n".encode()
    call("POST", f"/api/v1/customers/{c['id']}/documents", tok, raw=(body, f"multipart/form-data; boundary={bnd}"))
    call("POST", f"/api/v1/customers/{c['id']}/kyc", tok, {})
    call("POST", f"/api/v1/admin/customers/{c['id']}/kyc/approve", admin, {})
    a = call("POST", "/api/v1/accounts", tok, {"account_type": "CHECKING"})["id"]
    b = call("POST", "/api/v1/accounts", tok, {"account_type": "SAVINGS"})["id"]
    call("POST", "/api/v1/transactions/deposit", admin, {"account_id": a, "amount": "1000000000.00", "currency": "USD"}, {"idempotency-key": uuid.uuid4().hex})
    return {"token": tok, "a": a, "b": b}

# PAIRS customers: the first is the hot pair; all of them are the distinct pairs.
PAIRS = int(sys.argv[2]) if len(sys.argv) > 2 else 32
pairs = [customer_pair(i) for i in range(PAIRS)]
tok, a, b = pairs[0]["token"], pairs[0]["a"], pairs[0]["b"]
json.dump({"token": tok, "admin": admin, "a": a, "b": b}, open("env.json", "w"))
# One line per pair for the distinct-pairs script: token a b.
with open("pairs.txt", "w") as f:
    for p in pairs:
        f.write(f"{p['token']} {p['a']} {p['b']}\n")
print("ok", len(pairs), "pairs")
