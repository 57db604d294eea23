-- Neovim: gopls through gopls-guard inside the container.
-- With nvim-lspconfig, e.g. in ~/.config/nvim/after/plugin/gopls.lua.
--
-- "gopls" on PATH is the masquerade symlink (/usr/local/bin/gopls), so the
-- plain command already runs under the guard.  To name the guard
-- explicitly instead (without the symlink), use
--   cmd = { "gopls-guard", "--", "gopls" }
-- where "gopls" must then be the real gopls (/usr/bin/gopls).
require("lspconfig").gopls.setup({
  cmd = { "/usr/local/bin/gopls" },
})
