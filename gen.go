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
//   - cmd/l0: the command l0, the sparsity report of NumPy .npy and
//     safetensors files (dense arrays, or top-k pairs as the arrays they
//     stand for) and of the states it saves, one per file or one total over
//     many shards; go install github.com/sparsekit/l0/cmd/l0@latest.
//
// This file holds every go:generate line of the module. The generators live
// in ./asm, a module of its own, so that avo never enters a user's build:
// each writes every kernel family it registers (nonzero, above, abs, ...)
// to kernel/z<family>_<arch>.s and its Go stubs to the .go file beside it;
// the last line writes the benchmarks' read-limit reference to
// internal/readlimit.
package l0

//go:generate go -C asm run ./amd64 -kernels ../kernel -pkg kernel
//go:generate go -C asm run ./arm64 -kernels ../kernel -pkg kernel
//go:generate go -C asm run ./amd64 -family readlimit -out ../internal/readlimit/zread_amd64.s -stubs ../internal/readlimit/zread_amd64.go -pkg readlimit
