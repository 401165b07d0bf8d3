;; A module whose memory starts at 100 pages (6.25 MiB), over a cap of 64.
(module
  (memory (export "memory") 100)
  (func (export "f") (result i32) (i32.const 1)))
