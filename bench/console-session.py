#!/usr/bin/env python3
"""A console session for the bench (issue 18): prints the Cookie header of a tenant admin signed in to /console.

    console-session.py BASE_URL ADMIN_TOKEN TENANT_ID TENANT_SLUG

With the platform admin's token (client credentials) it creates a user with a password in the tenant, makes it a
TENANT_ADMIN, and signs it in as a browser does: /console/sign-in/start, the hosted login page (its hidden form
fields kept), the redirects of the code flow back to /console. The console page can then be requested with the
printed header (bench/scale.sh, scenarios P1 and P2). Needs a tenant without an MFA requirement for admins.
"""
import html
import http.cookiejar
import json
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

base, token, tenant, slug = sys.argv[1:5]
password = "Bench-Console-" + secrets.token_urlsafe(12) + "-7!"
email = "bench-console-%s@example.com" % secrets.token_hex(6)


def api(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


user = api("/api/v1/tenants/%s/users" % tenant, {"email": email, "password": password, "send_welcome_email": False})
api("/api/v1/admin/role-assignments",
    {"principal_type": "USER", "principal_id": user["data"]["id"], "role": "TENANT_ADMIN", "tenant_id": tenant})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())


def fetch(url, data=None):
    try:
        r = opener.open(urllib.request.Request(url, data=data), timeout=60)
    except urllib.error.HTTPError as e:
        r = e
    return r.status, r.headers.get("Location"), r.read().decode("utf-8", "replace"), r.geturl()


url = base + "/console/sign-in/start?tenant=%s&return_url=%%2Fconsole" % urllib.parse.quote(slug)
status, location, body, _ = fetch(url)
for _ in range(12):
    if status in (301, 302, 303, 307) and location:
        if location == "/console":
            print("; ".join("%s=%s" % (c.name, c.value) for c in jar))
            sys.exit(0)
        url = urllib.parse.urljoin(url, location)
        status, location, body, _ = fetch(url)
        continue
    if status != 200 or "/t/%s/login" % slug not in url:
        sys.exit("console sign-in stopped at %s with %d" % (url, status))
    fields = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(
        r'<input type="hidden" name="([^"]+)" (?:autocomplete="[^"]*" )?value="([^"]*)" ?/?>', body) if m.group(1) != "username"}
    fields.update(email=email, password=password)
    url = base + "/t/%s/login" % slug
    status, location, body, _ = fetch(url, urllib.parse.urlencode(fields).encode())
sys.exit("console sign-in did not come back to /console")
