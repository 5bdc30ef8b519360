;; The typed-array backend's WebAssembly SIMD kernels: its L2 norms, its scale and its clamp.
;; Assembled by scripts/assemble-wasm.mjs into wasmSimdModule.ts; `npm run wasm:check` (in CI) fails when the
;; committed bytes are not this text's.
;;
;; The two L2 kernels are bit-identical to backends/typedArray/kernels.ts: four float64 accumulators a0…a3 fed
;; with x[i], x[i+1], x[i+2], x[i+3] (two f64x2 vectors, lanes in the same order), the tail added into a0, and
;; the result (a0 + a1) + (a2 + a3). `f64x2.mul` then `f32x4.demote_f64x2_zero` rounds once from float64 to
;; float32, as `x[i] = x[i] * factor` does in JavaScript, and WebAssembly never fuses a multiply-add.
;;
;; The accumulators live in globals and carry over from one call to the next until `reset`, so an array can be
;; fed in pieces (whose lengths are multiples of 4, except the last) with the same result, bit for bit, as in one
;; call; each call returns the total so far.
(module
  (import "env" "memory" (memory 0))

  ;; a0, a1, a2, a3: the running sums of squares.
  (global $a0 (mut f64) (f64.const 0))
  (global $a1 (mut f64) (f64.const 0))
  (global $a2 (mut f64) (f64.const 0))
  (global $a3 (mut f64) (f64.const 0))

  ;; Σ x² over n float32 values at byte offset $ptr, added to the running sums; returns the total so far.
  (func $sumOfSquares (export "sumOfSquares") (param $ptr i32) (param $n i32) (result f64)
    (local $end4 i32) (local $end i32) (local $a01 v128) (local $a23 v128)
    (local $x v128) (local $tail f64)
    ;; $end4: where the groups of four end; $end: where the array ends.
    local.get $ptr
    local.get $n
    i32.const -4
    i32.and
    i32.const 2
    i32.shl
    i32.add
    local.set $end4
    local.get $ptr
    local.get $n
    i32.const 2
    i32.shl
    i32.add
    local.set $end
    ;; [a0, a1] and [a2, a3] as two f64x2 vectors.
    global.get $a0
    f64x2.splat
    global.get $a1
    f64x2.replace_lane 1
    local.set $a01
    global.get $a2
    f64x2.splat
    global.get $a3
    f64x2.replace_lane 1
    local.set $a23
    block $done
      loop $groups
        local.get $ptr
        local.get $end4
        i32.ge_u
        br_if $done
        ;; x[i], x[i+1] widened to float64, squared (exactly), added to [a0, a1].
        local.get $ptr
        v128.load64_zero
        f64x2.promote_low_f32x4
        local.tee $x
        local.get $x
        f64x2.mul
        local.get $a01
        f64x2.add
        local.set $a01
        ;; x[i+2], x[i+3] into [a2, a3].
        local.get $ptr
        v128.load64_zero offset=8
        f64x2.promote_low_f32x4
        local.tee $x
        local.get $x
        f64x2.mul
        local.get $a23
        f64x2.add
        local.set $a23
        local.get $ptr
        i32.const 16
        i32.add
        local.set $ptr
        br $groups
      end
    end
    ;; The tail (fewer than four values) goes into a0, one at a time.
    local.get $a01
    f64x2.extract_lane 0
    local.set $tail
    block $tailDone
      loop $tailLoop
        local.get $ptr
        local.get $end
        i32.ge_u
        br_if $tailDone
        local.get $ptr
        f32.load
        f64.promote_f32
        local.get $ptr
        f32.load
        f64.promote_f32
        f64.mul
        local.get $tail
        f64.add
        local.set $tail
        local.get $ptr
        i32.const 4
        i32.add
        local.set $ptr
        br $tailLoop
      end
    end
    local.get $tail
    global.set $a0
    local.get $a01
    f64x2.extract_lane 1
    global.set $a1
    local.get $a23
    f64x2.extract_lane 0
    global.set $a2
    local.get $a23
    f64x2.extract_lane 1
    global.set $a3
    ;; (a0 + a1) + (a2 + a3)
    local.get $tail
    local.get $a01
    f64x2.extract_lane 1
    f64.add
    local.get $a23
    f64x2.extract_lane 0
    local.get $a23
    f64x2.extract_lane 1
    f64.add
    f64.add)

  ;; x ← float32(x · factor) in place over n float32 values at $ptr; returns Σ y² of the stored values so far.
  (func $scaleSumOfSquares (export "scaleSumOfSquares") (param $ptr i32) (param $n i32) (param $factor f64) (result f64)
    (local $end4 i32) (local $end i32) (local $a01 v128) (local $a23 v128) (local $factors v128) (local $y v128)
    (local $y64 v128) (local $tail f64)
    local.get $ptr
    local.get $n
    i32.const -4
    i32.and
    i32.const 2
    i32.shl
    i32.add
    local.set $end4
    local.get $ptr
    local.get $n
    i32.const 2
    i32.shl
    i32.add
    local.set $end
    global.get $a0
    f64x2.splat
    global.get $a1
    f64x2.replace_lane 1
    local.set $a01
    global.get $a2
    f64x2.splat
    global.get $a3
    f64x2.replace_lane 1
    local.set $a23
    local.get $factor
    f64x2.splat
    local.set $factors
    block $done
      loop $groups
        local.get $ptr
        local.get $end4
        i32.ge_u
        br_if $done
        ;; y = float32(x · factor) for x[i], x[i+1], stored back; y² into [a0, a1].
        local.get $ptr
        local.get $ptr
        v128.load64_zero
        f64x2.promote_low_f32x4
        local.get $factors
        f64x2.mul
        f32x4.demote_f64x2_zero
        local.tee $y
        v128.store64_lane 0
        local.get $y
        f64x2.promote_low_f32x4
        local.tee $y64
        local.get $y64
        f64x2.mul
        local.get $a01
        f64x2.add
        local.set $a01
        ;; the same for x[i+2], x[i+3] into [a2, a3].
        local.get $ptr
        local.get $ptr
        v128.load64_zero offset=8
        f64x2.promote_low_f32x4
        local.get $factors
        f64x2.mul
        f32x4.demote_f64x2_zero
        local.tee $y
        v128.store64_lane offset=8 0
        local.get $y
        f64x2.promote_low_f32x4
        local.tee $y64
        local.get $y64
        f64x2.mul
        local.get $a23
        f64x2.add
        local.set $a23
        local.get $ptr
        i32.const 16
        i32.add
        local.set $ptr
        br $groups
      end
    end
    local.get $a01
    f64x2.extract_lane 0
    local.set $tail
    block $tailDone
      loop $tailLoop
        local.get $ptr
        local.get $end
        i32.ge_u
        br_if $tailDone
        ;; x ← float32(x · factor), then add its square into a0.
        local.get $ptr
        local.get $ptr
        f32.load
        f64.promote_f32
        local.get $factor
        f64.mul
        f32.demote_f64
        f32.store
        local.get $ptr
        f32.load
        f64.promote_f32
        local.get $ptr
        f32.load
        f64.promote_f32
        f64.mul
        local.get $tail
        f64.add
        local.set $tail
        local.get $ptr
        i32.const 4
        i32.add
        local.set $ptr
        br $tailLoop
      end
    end
    local.get $tail
    global.set $a0
    local.get $a01
    f64x2.extract_lane 1
    global.set $a1
    local.get $a23
    f64x2.extract_lane 0
    global.set $a2
    local.get $a23
    f64x2.extract_lane 1
    global.set $a3
    local.get $tail
    local.get $a01
    f64x2.extract_lane 1
    f64.add
    local.get $a23
    f64x2.extract_lane 0
    local.get $a23
    f64x2.extract_lane 1
    f64.add
    f64.add)

;; The fast L2 pass, what norms use: 32 floats at a time, squared and summed in float32 lanes (pairwise, three
  ;; levels deep, so a block sum is within 4·2⁻²⁴ of the exact one), each block's four lane sums widened into the
  ;; float64 accumulators a0…a3. Eight times fewer float64 operations than $sumOfSquares: the pass keeps up with
  ;; memory. A block whose squares overflow float32 makes the total +Infinity, and squares below 2⁻¹²⁶ lose
  ;; precision: the caller (blockSumOfSquares in kernels.ts) then measures again with $sumOfSquares. The tail
  ;; (fewer than 32 values) is added into a0 exactly, one value at a time. backends/typedArray/kernels.ts
  ;; computes the same, bit for bit, in JavaScript.
  (func $blockSumOfSquares (export "blockSumOfSquares") (param $ptr i32) (param $n i32) (result f64)
    (local $end32 i32) (local $end i32) (local $a01 v128) (local $a23 v128) (local $x v128) (local $block v128)
    (local $tail f64)
    ;; $end32: where the blocks of 32 end; $end: where the array ends.
    local.get $ptr
    local.get $n
    i32.const -32
    i32.and
    i32.const 2
    i32.shl
    i32.add
    local.set $end32
    local.get $ptr
    local.get $n
    i32.const 2
    i32.shl
    i32.add
    local.set $end
    global.get $a0
    f64x2.splat
    global.get $a1
    f64x2.replace_lane 1
    local.set $a01
    global.get $a2
    f64x2.splat
    global.get $a3
    f64x2.replace_lane 1
    local.set $a23
    block $done
      loop $blocks
        local.get $ptr
        local.get $end32
        i32.ge_u
        br_if $done
        ;; s_k = x_k² for the eight vectors x_0…x_7 of the block, lane by lane in float32, then
        ;; ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        local.get $ptr
        v128.load align=4
        local.tee $x
        local.get $x
        f32x4.mul
        local.get $ptr
        v128.load offset=16 align=4
        local.tee $x
        local.get $x
        f32x4.mul
        f32x4.add
        local.get $ptr
        v128.load offset=32 align=4
        local.tee $x
        local.get $x
        f32x4.mul
        local.get $ptr
        v128.load offset=48 align=4
        local.tee $x
        local.get $x
        f32x4.mul
        f32x4.add
        f32x4.add
        local.get $ptr
        v128.load offset=64 align=4
        local.tee $x
        local.get $x
        f32x4.mul
        local.get $ptr
        v128.load offset=80 align=4
        local.tee $x
        local.get $x
        f32x4.mul
        f32x4.add
        local.get $ptr
        v128.load offset=96 align=4
        local.tee $x
        local.get $x
        f32x4.mul
        local.get $ptr
        v128.load offset=112 align=4
        local.tee $x
        local.get $x
        f32x4.mul
        f32x4.add
        f32x4.add
        f32x4.add
        local.set $block
        ;; lanes 0, 1 of the block sum into [a0, a1]; lanes 2, 3 into [a2, a3]
        local.get $block
        f64x2.promote_low_f32x4
        local.get $a01
        f64x2.add
        local.set $a01
        local.get $block
        local.get $block
        i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
        f64x2.promote_low_f32x4
        local.get $a23
        f64x2.add
        local.set $a23
        local.get $ptr
        i32.const 128
        i32.add
        local.set $ptr
        br $blocks
      end
    end
    ;; The tail goes into a0, exactly, one value at a time.
    local.get $a01
    f64x2.extract_lane 0
    local.set $tail
    block $tailDone
      loop $tailLoop
        local.get $ptr
        local.get $end
        i32.ge_u
        br_if $tailDone
        local.get $ptr
        f32.load
        f64.promote_f32
        local.get $ptr
        f32.load
        f64.promote_f32
        f64.mul
        local.get $tail
        f64.add
        local.set $tail
        local.get $ptr
        i32.const 4
        i32.add
        local.set $ptr
        br $tailLoop
      end
    end
    local.get $tail
    global.set $a0
    local.get $a01
    f64x2.extract_lane 1
    global.set $a1
    local.get $a23
    f64x2.extract_lane 0
    global.set $a2
    local.get $a23
    f64x2.extract_lane 1
    global.set $a3
    ;; (a0 + a1) + (a2 + a3)
    local.get $tail
    local.get $a01
    f64x2.extract_lane 1
    f64.add
    local.get $a23
    f64x2.extract_lane 0
    local.get $a23
    f64x2.extract_lane 1
    f64.add
    f64.add)

  ;; x ← x · factor in float32 (f32x4.mul: one correctly rounded product) over n values at $ptr. The caller passes
  ;; a float32 factor no larger than the exact one (scaleInPlace in kernels.ts), so the bound still holds.
  (func $scale (export "scale") (param $ptr i32) (param $n i32) (param $factor f32)
    (local $end4 i32) (local $end i32) (local $factors v128)
    local.get $ptr
    local.get $n
    i32.const -4
    i32.and
    i32.const 2
    i32.shl
    i32.add
    local.set $end4
    local.get $ptr
    local.get $n
    i32.const 2
    i32.shl
    i32.add
    local.set $end
    local.get $factor
    f32x4.splat
    local.set $factors
    block $done
      loop $groups
        local.get $ptr
        local.get $end4
        i32.ge_u
        br_if $done
        local.get $ptr
        local.get $ptr
        v128.load align=4
        local.get $factors
        f32x4.mul
        v128.store align=4
        local.get $ptr
        i32.const 16
        i32.add
        local.set $ptr
        br $groups
      end
    end
    block $tailDone
      loop $tailLoop
        local.get $ptr
        local.get $end
        i32.ge_u
        br_if $tailDone
        local.get $ptr
        local.get $ptr
        f32.load
        local.get $factor
        f32.mul
        f32.store
        local.get $ptr
        i32.const 4
        i32.add
        local.set $ptr
        br $tailLoop
      end
    end)

  ;; Zeroes the four running sums: the next array starts from 0.
  (func $reset (export "reset")
    f64.const 0
    global.set $a0
    f64.const 0
    global.set $a1
    f64.const 0
    global.set $a2
    f64.const 0
    global.set $a3)

  ;; Every x > $above becomes $hi and every x < $below becomes $lo (all float32), four at a time with
  ;; f32x4.gt/lt and v128.bitselect, so other values — NaN payloads and -0 included — keep their bits.
  ;; Returns 1 when some value was replaced. See clampBounds in clampBounds.ts for the four bounds.
  (func $clamp (export "clamp") (param $ptr i32) (param $n i32) (param $above f32) (param $below f32) (param $hi f32) (param $lo f32) (result i32)
    (local $end4 i32) (local $end i32) (local $changedTail i32) (local $aboves v128) (local $belows v128) (local $his v128)
    (local $los v128) (local $x v128) (local $isAbove v128) (local $isBelow v128) (local $changed v128)
    local.get $ptr
    local.get $n
    i32.const -4
    i32.and
    i32.const 2
    i32.shl
    i32.add
    local.set $end4
    local.get $ptr
    local.get $n
    i32.const 2
    i32.shl
    i32.add
    local.set $end
    local.get $above
    f32x4.splat
    local.set $aboves
    local.get $below
    f32x4.splat
    local.set $belows
    local.get $hi
    f32x4.splat
    local.set $his
    local.get $lo
    f32x4.splat
    local.set $los
    block $done
      loop $groups
        local.get $ptr
        local.get $end4
        i32.ge_u
        br_if $done
        local.get $ptr
        v128.load align=4
        local.set $x
        local.get $x
        local.get $aboves
        f32x4.gt
        local.set $isAbove
        local.get $x
        local.get $belows
        f32x4.lt
        local.set $isBelow
        ;; remember whether any lane was replaced
        local.get $changed
        local.get $isAbove
        local.get $isBelow
        v128.or
        v128.or
        local.set $changed
        ;; store: hi where above, else lo where below, else x
        local.get $ptr
        local.get $his
        local.get $los
        local.get $x
        local.get $isBelow
        v128.bitselect
        local.get $isAbove
        v128.bitselect
        v128.store align=4
        local.get $ptr
        i32.const 16
        i32.add
        local.set $ptr
        br $groups
      end
    end
    block $tailDone
      loop $tailLoop
        local.get $ptr
        local.get $end
        i32.ge_u
        br_if $tailDone
        local.get $ptr
        f32.load
        local.get $above
        f32.gt
        if
          local.get $ptr
          local.get $hi
          f32.store
          i32.const 1
          local.set $changedTail
        else
          local.get $ptr
          f32.load
          local.get $below
          f32.lt
          if
            local.get $ptr
            local.get $lo
            f32.store
            i32.const 1
            local.set $changedTail
          end
        end
        local.get $ptr
        i32.const 4
        i32.add
        local.set $ptr
        br $tailLoop
      end
    end
    local.get $changed
    v128.any_true
    local.get $changedTail
    i32.or))
