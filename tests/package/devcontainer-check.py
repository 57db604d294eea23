#!/usr/bin/env python3
"""devcontainer-check.py DIR INSTALL_ROOT — what can be checked of the
devcontainer example in DIR without Docker.  INSTALL_ROOT is the source
tree installed with DESTDIR (cmake --install --prefix /usr), i.e. the image's
layout of the package.  Prints one PASS/FAIL line per check; exits 1 if any
failed."""
import json
import os
import re
import shlex
import sys

d, root = sys.argv[1], sys.argv[2]
failed = 0


def check(name, ok):
    global failed
    print(("PASS " if ok else "FAIL ") + name)
    if not ok:
        failed += 1
    return ok


def strip_jsonc(text):
    """devcontainer.json may hold // and /* */ comments (JSONC); drop them
    outside strings, so that json can read the rest."""
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


# ---- devcontainer.json ----
conf = {}
path = os.path.join(d, "devcontainer.json")
try:
    with open(path) as f:
        conf = json.loads(strip_jsonc(f.read()))
    check("devcontainer.json is valid JSON", isinstance(conf, dict))
except (OSError, ValueError) as e:
    check(f"devcontainer.json is valid JSON ({e})", False)
    conf = {}

build = conf.get("build", {}) if isinstance(conf.get("build"), dict) else {}
dockerfile = os.path.join(d, build.get("dockerfile", "")) if build.get("dockerfile") else ""
context = os.path.join(d, build.get("context", "."))
check("build.dockerfile names an existing file", bool(dockerfile) and os.path.isfile(dockerfile))
check("build.context is an existing directory", os.path.isdir(context))
check('"overrideCommand" is false (keeps the image\'s ENTRYPOINT)',
      conf.get("overrideCommand") is False)
run_args = conf.get("runArgs", [])
check("runArgs ask for a private cgroup namespace", "--cgroupns=private" in run_args)
writable = "--privileged" in run_args or any(
    a == "unmask=/sys/fs/cgroup" or a.endswith("unmask=/sys/fs/cgroup") for a in run_args)
check("runArgs make /sys/fs/cgroup writable (--privileged or unmask=/sys/fs/cgroup)", writable)
settings = conf.get("customizations", {}).get("vscode", {}).get("settings", {})
alt = settings.get("go.alternateTools", {}).get("gopls")
check('VS Code: "go.alternateTools" names gopls by an absolute path',
      isinstance(alt, str) and alt.startswith("/"))

# ---- Dockerfile ----
lines = []
if dockerfile and os.path.isfile(dockerfile):
    with open(dockerfile) as f:
        text = f.read()
    # join continuation lines, drop comments
    text = re.sub(r"\\\n", " ", text)
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]


def instr(name):
    return [l[len(name):].strip() for l in lines if l.upper().startswith(name + " ")]


entry = instr("ENTRYPOINT")
check("the Dockerfile has exactly one ENTRYPOINT", len(entry) == 1)
argv = None
if entry:
    try:
        argv = json.loads(entry[-1])
    except ValueError:
        argv = None
check("ENTRYPOINT is in exec form (a JSON array, so init is PID 1, not a shell)",
      isinstance(argv, list) and all(isinstance(a, str) for a in argv))
argv = argv if isinstance(argv, list) else []
check("ENTRYPOINT runs gopls-guard init",
      len(argv) >= 2 and os.path.basename(argv[0]) == "gopls-guard" and argv[1] == "init")
check('ENTRYPOINT ends with "--" (the command follows from CMD)', argv[-1:] == ["--"])
user = argv[argv.index("--user") + 1] if "--user" in argv[:-1] else None
check("ENTRYPOINT's --user is devcontainer.json's remoteUser",
      user is not None and user == conf.get("remoteUser"))
check("the Dockerfile creates that user", user is not None and
      any(re.search(r"useradd\b.*\b" + re.escape(user) + r"(\s|$)", r) for r in instr("RUN")))
cmd = instr("CMD")
check("CMD gives init a command", len(cmd) == 1 and isinstance(json.loads(cmd[0]), list)
      if cmd and cmd[0].startswith("[") else False)

for src in instr("COPY"):
    parts = [p for p in shlex.split(src) if not p.startswith("--")]
    for s in parts[:-1]:
        if "gopls-guard_" in s and s.endswith(".deb"):
            # made by packaging/build-deb.sh DIR: gopls-guard_VERSION_ARCH.deb
            check(f"COPY {s} matches what build-deb.sh makes",
                  re.fullmatch(r"gopls-guard_\*\.deb", s) is not None)
        else:
            check(f"COPY source {s} exists", os.path.exists(os.path.join(context, s)))

# the masquerade symlink: its target is where the package puts the guard,
# and its directory comes before the real gopls's on PATH
links = []
for r in instr("RUN"):
    m = re.search(r"ln\s+-s\S*\s+(\S+)\s+(\S+)", r)
    if m:
        links.append((m.group(1), m.group(2)))
link = next(((t, l) for t, l in links if os.path.basename(l) == "gopls"), None)
check("the Dockerfile links gopls to the guard", link is not None)
if link:
    target, name = link
    check(f"the symlink's target {target} is installed by the package",
          os.path.basename(target) == "gopls-guard" and
          os.path.isfile(os.path.join(root, target.lstrip("/"))))
    check(f'VS Code\'s "go.alternateTools" gopls is the symlink {name}', alt == name)
    env_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # Debian's default
    for e in instr("ENV"):
        m = re.match(r"PATH[= ](\S+)", e)
        if m:
            env_path = m.group(1)
    dirs = env_path.split(":")
    ldir = os.path.dirname(name)
    check(f"{ldir} comes before /usr/bin (the real gopls) on PATH",
          ldir in dirs and "/usr/bin" in dirs and dirs.index(ldir) < dirs.index("/usr/bin"))
    check("the image installs the real gopls", any(re.search(r"\bgopls\b", r) and "apt-get install" in r
                                                  for r in instr("RUN")))

# ---- the Neovim snippet and the README ----
check("nvim-gopls.lua exists", os.path.isfile(os.path.join(d, "nvim-gopls.lua")))
if os.path.isfile(os.path.join(d, "nvim-gopls.lua")) and link:
    with open(os.path.join(d, "nvim-gopls.lua")) as f:
        lua = f.read()
    check("Neovim's cmd runs the symlink", f'cmd = {{ "{link[1]}" }}' in lua)
readme = os.path.join(d, "README.md")
check("README.md exists", os.path.isfile(readme))
if os.path.isfile(readme):
    with open(readme) as f:
        rd = f.read()
    for name in sorted(set(re.findall(r"`([\w.-]+\.(?:json|lua|ini))`", rd))):
        check(f"README names {name}, which exists", os.path.exists(os.path.join(d, name)))
    check("README builds the package into this directory",
          "packaging/build-deb.sh packaging/devcontainer" in rd)

print(f"{'FAILED' if failed else 'ok'}: {failed} failed")
sys.exit(1 if failed else 0)
