;; A module with no proxy_abi_version_* marker: not a Proxy-Wasm plugin.
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024)))
