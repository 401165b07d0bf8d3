;; Guest for the engine port's unit tests: a host import with i32 and i64 values, a call back
;; into the guest from inside a host function, a trap, an endless loop and a memory bomb.
(module
  (import "env" "host_add" (func $host_add (param i32 i32) (result i32)))
  (import "env" "host_twice64" (func $host_twice64 (param i64) (result i64)))
  (import "env" "host_reenter" (func $host_reenter (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello")
  (func (export "add40") (param i32) (result i32)
    (call $host_add (local.get 0) (i32.const 40)))
  (func (export "twice64_low") (param i32) (result i32)
    (i32.wrap_i64 (call $host_twice64 (i64.extend_i32_u (local.get 0)))))
  (func (export "plus_one") (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "reenter") (param i32) (result i32)
    (call $host_reenter (local.get 0)))
  (func (export "trap") (unreachable))
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "grow_forever") (result i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    (i32.const 0)))
