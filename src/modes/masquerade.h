/* masquerade.h — invoked through a symlink named gopls: which command
 * lines are a language server on stdio (guarded) and which are gopls's
 * other commands (handed to the real gopls untouched).
 *
 * gopls (0.5.0 to 0.16.x) parses Go flags: `-name`, `--name`, `-name=value`,
 * or `-name value` for flags that take one; a boolean flag takes a value
 * only as `-name=true|false`; `--` or the first argument that is not a flag
 * ends them.  `gopls [flags]` and `gopls [flags] serve [server-flags]` run
 * the server; before `serve` gopls accepts its own flags and the server's,
 * after it only the server's. */
#pragma once

#include <stdbool.h>

/* True when gopls, given argv[1..argc-1], serves LSP on stdin/stdout: no
 * arguments, or only flags that keep it a stdio server (-mode, -logfile,
 * -rpc.trace, -v, -debug, -profile.*, ...), optionally with `serve` and
 * server flags.  False for every other command (version, format, help,
 * ...), for flags that make it something else (-remote: a forwarder to a
 * daemon; -listen, -port: a server on a socket; -h), for flags it does not
 * know, and for malformed ones (missing value, bad boolean): gopls then
 * reports its own usage error, which must reach the caller unchanged. */
bool masquerade_serves_stdio(int argc, char *const *argv);
