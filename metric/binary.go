package metric

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
)

// The binary state of both metrics is laid out as the package
// documentation describes: a 40-byte header (magic, version, element type,
// flags, components, features, threshold, vectors), the counts, and a
// CRC-32C of everything before it, little-endian throughout.
const (
	formatVersion = 1
	headerSize    = 40
	checksumSize  = 4
)

const (
	magicL0Norm   = "L0NM"
	magicActivity = "L0FA"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is a serialized state's configuration and vector count.
type header struct {
	tag                  byte
	rule                 Rule
	components, features int
	vectors              int64
}

// appendState appends the serialized state to b.
func appendState(b []byte, magic string, h header, counts []uint64) []byte {
	start := len(b)
	b = append(b, magic...)
	threshold, _ := h.rule.Threshold()
	b = append(b, formatVersion, h.tag, h.rule.flags(), 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(h.components))
	b = binary.LittleEndian.AppendUint64(b, uint64(h.features))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(threshold))
	b = binary.LittleEndian.AppendUint64(b, uint64(h.vectors))
	for _, c := range counts {
		b = binary.LittleEndian.AppendUint64(b, c)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// parseState decodes a serialized state of the given magic and checks that
// it is complete and self-consistent; slotsOf returns, for a header, the
// number of counts the state must hold, or false if the header's sizes are
// out of range. It never allocates more than len(b) bytes.
func parseState(b []byte, magic string, slotsOf func(header) (int, bool)) (header, []uint64, error) {
	var h header
	if len(b) < headerSize+checksumSize {
		return h, nil, fmt.Errorf("%w: %d bytes, shorter than any state", ErrFormat, len(b))
	}
	if string(b[:4]) != magic {
		return h, nil, fmt.Errorf("%w: magic %q, want %q", ErrFormat, b[:4], magic)
	}
	if b[4] != formatVersion {
		return h, nil, fmt.Errorf("%w: version %d, this package reads version %d", ErrFormat, b[4], formatVersion)
	}
	body := len(b) - checksumSize
	if got, want := crc32.Checksum(b[:body], castagnoli), binary.LittleEndian.Uint32(b[body:]); got != want {
		return h, nil, fmt.Errorf("%w: checksum %08x, the data's %08x (truncated or corrupt)", ErrFormat, want, got)
	}
	h.tag = b[5]
	if elementName(h.tag) == "unknown" {
		return h, nil, fmt.Errorf("%w: unknown element type %d", ErrFormat, h.tag)
	}
	flags := b[6]
	components := binary.LittleEndian.Uint64(b[8:])
	features := binary.LittleEndian.Uint64(b[16:])
	thresholdBits := binary.LittleEndian.Uint64(b[24:])
	vectors := binary.LittleEndian.Uint64(b[32:])
	rule, ok := ruleOf(flags, math.Float64frombits(thresholdBits))
	h.rule = rule
	switch {
	case !ok || b[7] != 0:
		return h, nil, fmt.Errorf("%w: unknown flags %#x/%#x", ErrFormat, flags, b[7])
	case rule.check() != nil:
		return h, nil, fmt.Errorf("%w: threshold is NaN", ErrFormat)
	case rule.kind == ruleNonZero && thresholdBits != 0:
		return h, nil, fmt.Errorf("%w: a threshold without the threshold flag", ErrFormat)
	case components > MaxComponents || features > MaxCounters:
		return h, nil, fmt.Errorf("%w: %d components, %d features out of range", ErrFormat, components, features)
	case vectors > math.MaxInt64:
		return h, nil, fmt.Errorf("%w: vector count %d is negative as an int64", ErrFormat, vectors)
	}
	h.components, h.features, h.vectors = int(components), int(features), int64(vectors)
	n, ok := slotsOf(h)
	if hi, lo := bits.Mul64(uint64(n), 8); !ok || hi != 0 || lo != uint64(body-headerSize) {
		return h, nil, fmt.Errorf("%w: %d bytes of counts, the header (%d components, %d features) wants other", ErrFormat, body-headerSize, h.components, h.features)
	}
	counts := make([]uint64, n)
	for i := range counts {
		counts[i] = binary.LittleEndian.Uint64(b[headerSize+8*i:])
	}
	return h, counts, nil
}

// checkConfig reports whether a decoded header describes a metric of the
// receiver's configuration want.
func checkConfig(got, want header) error {
	if got.tag != want.tag {
		return fmt.Errorf("%w: state of %s elements, metric of %s", ErrMismatch, elementName(got.tag), elementName(want.tag))
	}
	if got.components != want.components && got.features == want.features {
		return fmt.Errorf("%w: state of %d components, metric of %d", ErrMismatch, got.components, want.components)
	}
	if got.components != want.components || got.features != want.features {
		return fmt.Errorf("%w: state of %d components × %d features, metric of %d × %d", ErrMismatch, got.components, got.features, want.components, want.features)
	}
	if !got.rule.same(want.rule) {
		return fmt.Errorf("%w: state counts %s, metric %s", ErrMismatch, got.rule, want.rule)
	}
	return nil
}
