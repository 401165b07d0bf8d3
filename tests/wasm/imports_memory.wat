;; A module importing its memory: the engines refuse every import that is not a function.
(module
  (import "env" "memory" (memory 1))
  (func (export "f")))
