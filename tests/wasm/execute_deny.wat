;; The execute ABI: anything but 200 is the SPEC 403.
(module
  (memory (export "memory") 1)
  (func (export "execute") (result i32) (i32.const 401)))
