;; A module exporting no memory: the host could not read or write it, so it is refused.
(module
  (func (export "f") (result i32) (i32.const 1)))
