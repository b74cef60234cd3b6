// Package l0 counts the non-zero elements of numeric slices at the memory
// read limit of the machine, and measures the L0 norm of sparse-autoencoder
// activations on top of that.
//
// The packages:
//
//   - kernel: CountNonZero and the other counting kernels, AVX-512 and AVX2
//     on amd64, NEON on arm64, portable Go everywhere, one level chosen at
//     start-up;
//   - metric: the L0-norm metric of the sparse_autoencoder library, and
//     per-feature activity;
//   - cmd/l0: the report of NumPy .npy files.
//
// This file holds every go:generate line of the module. The generators live
// in ./asm, a module of its own, so that avo never enters a user's build:
// each writes every kernel family it registers (nonzero, above, abs, ...)
// to kernel/z<family>_<arch>.s and its Go stubs to the .go file beside it.
package l0

//go:generate go -C asm run ./amd64 -kernels ../kernel -pkg kernel
//go:generate go -C asm run ./arm64 -kernels ../kernel -pkg kernel
//go:generate go -C asm run ./amd64 -family readlimit -out ../internal/readlimit/zread_amd64.s -stubs ../internal/readlimit/zread_amd64.go -pkg readlimit
