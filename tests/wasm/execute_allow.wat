;; The execute ABI (SPEC.md §2 abi: execute): 200 lets every request on.
(module
  (memory (export "memory") 1)
  (func (export "execute") (result i32) (i32.const 200)))
