;; The execute ABI, reading past the end of its memory: a trap (V8 catches the access through
;; its guard pages and a signal handler, WABT by a bounds check), never a crash of the worker.
(module
  (memory (export "memory") 1)
  (func (export "execute") (result i32) (i32.load (i32.const 65534))))
