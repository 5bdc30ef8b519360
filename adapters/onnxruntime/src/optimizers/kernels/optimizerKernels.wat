;; The optimizers' update loops in WebAssembly SIMD, four float32 lanes at a time, every operation rounded to
;; float32 in torch.optim's order (so the result is what PyTorch's float32 kernels compute, op by op).
;; Buffers are byte offsets into the imported memory; n is the element count (the last n mod 4 run scalar).
;; Assembled by scripts/assemble-kernels.mjs (wabt) into optimizerKernelsWasm.ts; a test checks the two agree.
(module
  (import "env" "memory" (memory 1))

  ;; Adam / AdamW, torch.optim.Adam's single-tensor update:
  ;;   g ← g + l2·p (Adam's weight decay; l2Mask selects it)   p ← p·keep (AdamW: keep = 1 − lr·wd)
  ;;   m ← b1·m + (1 − b1)·g    v ← b2·v + ((1 − b2)·g)·g
  ;;   p ← p + negStep·(m / (√v / bc2 + eps))           (negStep = −lr/(1 − b1ᵗ), bc2 = √(1 − b2ᵗ))
  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $negStep f32) (param $bc2 f32) (param $eps f32)
    (param $l2 f32) (param $useL2 i32) (param $keep f32)
    (local $i i32) (local $end i32) (local $off i32)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $NS v128) (local $BC2 v128)
    (local $EPS v128) (local $L2 v128) (local $MASK v128) (local $KEEP v128)
    (local $gv v128) (local $pv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ps f32) (local $ms f32) (local $vs f32)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $C1 (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C2 (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $NS (f32x4.splat (local.get $negStep)))
    (local.set $BC2 (f32x4.splat (local.get $bc2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $L2 (f32x4.splat (local.get $l2)))
    (local.set $MASK (i32x4.splat (i32.sub (i32.const 0) (local.get $useL2))))
    (local.set $KEEP (f32x4.splat (local.get $keep)))
    (local.set $end (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $lanes
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $off))))
        (local.set $pv (v128.load (i32.add (local.get $p) (local.get $off))))
        (local.set $gv (v128.bitselect
          (f32x4.add (local.get $gv) (f32x4.mul (local.get $L2) (local.get $pv)))
          (local.get $gv) (local.get $MASK)))
        (local.set $pv (f32x4.mul (local.get $pv) (local.get $KEEP)))
        (local.set $mv (f32x4.add
          (f32x4.mul (local.get $B1) (v128.load (i32.add (local.get $m) (local.get $off))))
          (f32x4.mul (local.get $C1) (local.get $gv))))
        (local.set $vv (f32x4.add
          (f32x4.mul (local.get $B2) (v128.load (i32.add (local.get $v) (local.get $off))))
          (f32x4.mul (f32x4.mul (local.get $C2) (local.get $gv)) (local.get $gv))))
        (v128.store (i32.add (local.get $m) (local.get $off)) (local.get $mv))
        (v128.store (i32.add (local.get $v) (local.get $off)) (local.get $vv))
        (v128.store (i32.add (local.get $p) (local.get $off))
          (f32x4.add (local.get $pv) (f32x4.mul (local.get $NS)
            (f32x4.div (local.get $mv)
              (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (local.get $BC2)) (local.get $EPS))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $lanes)))
    (block $tail
      (loop $scalars
        (br_if $tail (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $off))))
        (local.set $ps (f32.load (i32.add (local.get $p) (local.get $off))))
        (if (local.get $useL2) (then (local.set $gs (f32.add (local.get $gs) (f32.mul (local.get $l2) (local.get $ps))))))
        (local.set $ps (f32.mul (local.get $ps) (local.get $keep)))
        (local.set $ms (f32.add
          (f32.mul (local.get $b1) (f32.load (i32.add (local.get $m) (local.get $off))))
          (f32.mul (f32.sub (f32.const 1) (local.get $b1)) (local.get $gs))))
        (local.set $vs (f32.add
          (f32.mul (local.get $b2) (f32.load (i32.add (local.get $v) (local.get $off))))
          (f32.mul (f32.mul (f32.sub (f32.const 1) (local.get $b2)) (local.get $gs)) (local.get $gs))))
        (f32.store (i32.add (local.get $m) (local.get $off)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $off)) (local.get $vs))
        (f32.store (i32.add (local.get $p) (local.get $off))
          (f32.add (local.get $ps) (f32.mul (local.get $negStep)
            (f32.div (local.get $ms)
              (f32.add (f32.div (f32.sqrt (local.get $vs)) (local.get $bc2)) (local.get $eps))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scalars))))

  ;; SGD, torch.optim.SGD's single-tensor update:
  ;;   d ← g + wd·p (useWd)   with momentum (hasBuf): buf ← first ? d : μ·buf + (1 − dampening)·d,
  ;;   d ← nesterov ? d + μ·buf : buf      p ← p + (−lr)·d
  (func (export "sgd")
    (param $p i32) (param $g i32) (param $buf i32) (param $n i32)
    (param $negLr f32) (param $mu f32) (param $dampening f32) (param $wd f32)
    (param $useWd i32) (param $hasBuf i32) (param $first i32) (param $nesterov i32)
    (local $i i32) (local $end i32) (local $off i32)
    (local $NL v128) (local $MU v128) (local $KD v128) (local $WD v128)
    (local $WDM v128) (local $FIRST v128) (local $NEST v128)
    (local $gv v128) (local $pv v128) (local $bv v128)
    (local $gs f32) (local $ps f32) (local $bs f32)
    (local.set $NL (f32x4.splat (local.get $negLr)))
    (local.set $MU (f32x4.splat (local.get $mu)))
    (local.set $KD (f32x4.splat (f32.sub (f32.const 1) (local.get $dampening))))
    (local.set $WD (f32x4.splat (local.get $wd)))
    (local.set $WDM (i32x4.splat (i32.sub (i32.const 0) (local.get $useWd))))
    (local.set $FIRST (i32x4.splat (i32.sub (i32.const 0) (local.get $first))))
    (local.set $NEST (i32x4.splat (i32.sub (i32.const 0) (local.get $nesterov))))
    (local.set $end (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $lanes
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $off))))
        (local.set $pv (v128.load (i32.add (local.get $p) (local.get $off))))
        (local.set $gv (v128.bitselect
          (f32x4.add (local.get $gv) (f32x4.mul (local.get $WD) (local.get $pv)))
          (local.get $gv) (local.get $WDM)))
        (if (local.get $hasBuf)
          (then
            (local.set $bv (v128.bitselect
              (local.get $gv)
              (f32x4.add
                (f32x4.mul (local.get $MU) (v128.load (i32.add (local.get $buf) (local.get $off))))
                (f32x4.mul (local.get $KD) (local.get $gv)))
              (local.get $FIRST)))
            (v128.store (i32.add (local.get $buf) (local.get $off)) (local.get $bv))
            (local.set $gv (v128.bitselect
              (f32x4.add (local.get $gv) (f32x4.mul (local.get $MU) (local.get $bv)))
              (local.get $bv) (local.get $NEST)))))
        (v128.store (i32.add (local.get $p) (local.get $off))
          (f32x4.add (local.get $pv) (f32x4.mul (local.get $NL) (local.get $gv))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $lanes)))
    (block $tail
      (loop $scalars
        (br_if $tail (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $off))))
        (local.set $ps (f32.load (i32.add (local.get $p) (local.get $off))))
        (if (local.get $useWd) (then (local.set $gs (f32.add (local.get $gs) (f32.mul (local.get $wd) (local.get $ps))))))
        (if (local.get $hasBuf)
          (then
            (if (local.get $first)
              (then (local.set $bs (local.get $gs)))
              (else (local.set $bs (f32.add
                (f32.mul (local.get $mu) (f32.load (i32.add (local.get $buf) (local.get $off))))
                (f32.mul (f32.sub (f32.const 1) (local.get $dampening)) (local.get $gs))))))
            (f32.store (i32.add (local.get $buf) (local.get $off)) (local.get $bs))
            (if (local.get $nesterov)
              (then (local.set $gs (f32.add (local.get $gs) (f32.mul (local.get $mu) (local.get $bs)))))
              (else (local.set $gs (local.get $bs))))))
        (f32.store (i32.add (local.get $p) (local.get $off)) (f32.add (local.get $ps) (f32.mul (local.get $negLr) (local.get $gs))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scalars))))
)
