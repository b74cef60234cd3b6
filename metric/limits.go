package metric

import (
	"fmt"
	"math/bits"
)

// The sizes a metric accepts. Past them a constructor returns an ErrConfig
// error and UnmarshalBinary an ErrFormat error, so that no size, however
// large, makes a metric panic (a slice longer than the runtime allows) or
// take memory out of proportion to any real model.
const (
	// MaxComponents bounds the component dimension. Every per-component
	// result (Compute, Forward, Counts, L0, the state of an L0Norm) costs 8
	// bytes per component even when the vectors have no features: at most
	// 128 MiB. The sparse_autoencoder library's components are the SAEs
	// trained side by side, a handful to a few thousand.
	MaxComponents = 1 << 24

	// MaxCounters bounds the counters of a FeatureActivity, max(components,
	// 1) × features, 8 bytes each: 2^32 on 64-bit machines (32 GiB, a
	// 16M-latent SAE of 256 components), 2^26 on 32-bit ones (512 MiB).
	// An L0Norm keeps no per-feature state and takes any number of
	// features.
	MaxCounters = 1 << (26 + 6*(bits.UintSize/64))
)

// checkSizes returns an ErrConfig error unless a metric of the given
// components and features (-1 for an L0Norm, which takes any), neither
// negative, is within the limits.
func checkSizes(components, features int) error {
	if components > MaxComponents {
		return fmt.Errorf("%w: %d components, more than MaxComponents (%d)", ErrConfig, components, MaxComponents)
	}
	if features < 0 {
		return nil
	}
	if hi, n := bits.Mul64(uint64(max(components, 1)), uint64(features)); hi != 0 || n > MaxCounters {
		return fmt.Errorf("%w: %d components × %d features is more than MaxCounters (%d) counters", ErrConfig, components, features, MaxCounters)
	}
	return nil
}
