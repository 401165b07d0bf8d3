;; A module whose start function never returns: instantiating it must not hang the worker.
(module
  (memory (export "memory") 1)
  (func $spin (loop $forever (br $forever)))
  (start $spin))
