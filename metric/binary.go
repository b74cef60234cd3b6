package metric

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
)

// The binary state of both metrics is laid out as the package
// documentation describes: a 40-byte header (magic, version, element type,
// flags, components, features, threshold, vectors), the counts, and a
// CRC-32C of everything before it, little-endian throughout.
const (
	formatVersion = 1 // an L0Norm's states; a FeatureActivity's: activityVersion
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

// appendState appends the serialized state to b: version 1, or with last
// (the positions of a FeatureActivity with SinceFired, since.go) version 2,
// in which the vectors since each counter fired follow the counts.
func appendState(b []byte, k kind, h header, counts []uint64, last []int64) []byte {
	start := len(b)
	b = append(b, k.magic...)
	threshold, _ := h.rule.Threshold()
	version := byte(formatVersion)
	if last != nil {
		version = activityVersion
	}
	b = append(b, version, h.tag, h.rule.flags(), 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(h.components))
	b = binary.LittleEndian.AppendUint64(b, uint64(h.features))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(threshold))
	b = binary.LittleEndian.AppendUint64(b, uint64(h.vectors))
	for _, c := range counts {
		b = binary.LittleEndian.AppendUint64(b, c)
	}
	if last != nil {
		b = appendSince(b, h.vectors, last)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// parseState checks that b is a serialized state of a metric of kind k,
// complete and self-consistent, and returns its header and the bytes of
// its counts, not decoded, and those of its vectors since fired (nil in a
// state without them): the caller decodes them once, into the metric's
// own (decodeCounts, decodeSince), so that restoring a state of gigabytes
// takes no copy of it. It allocates nothing.
func parseState(b []byte, k kind) (h header, counts, since []byte, err error) {
	if len(b) < headerSize+checksumSize {
		return h, nil, nil, fmt.Errorf("%w: %d bytes, shorter than any state", ErrFormat, len(b))
	}
	version, err := checkMagic(b, k)
	if err != nil {
		return h, nil, nil, err
	}
	body := len(b) - checksumSize
	if got, want := crc32.Checksum(b[:body], castagnoli), binary.LittleEndian.Uint32(b[body:]); got != want {
		return h, nil, nil, fmt.Errorf("%w: checksum %08x, the data's %08x (truncated or corrupt)", ErrFormat, want, got)
	}
	h, n, err := parseHeader(b[:headerSize], k)
	if err != nil {
		return h, nil, nil, err
	}
	words := uint64(1)
	if version >= activityVersion {
		words = 2 // the counts, then the vectors since fired
	}
	if hi, lo := bits.Mul64(uint64(n), 8*words); hi != 0 || lo != uint64(body-headerSize) {
		return h, nil, nil, fmt.Errorf("%w: %d bytes of counts, the header (%d components, %d features) wants %d", ErrFormat, body-headerSize, h.components, h.features, lo)
	}
	counts = b[headerSize : headerSize+8*n]
	if words == 2 {
		since = b[headerSize+8*n : body]
	}
	return h, counts, since, nil
}

// checkMagic checks the magic and version at the start of b, which holds
// at least 5 bytes, and returns the version: 1 to the kind's.
func checkMagic(b []byte, k kind) (byte, error) {
	if string(b[:4]) != k.magic {
		return 0, fmt.Errorf("%w: magic %q, want %q", ErrFormat, b[:4], k.magic)
	}
	if b[4] < 1 || b[4] > k.version {
		if k.version == 1 {
			return 0, fmt.Errorf("%w: version %d, this package reads version 1", ErrFormat, b[4])
		}
		return 0, fmt.Errorf("%w: version %d, this package reads versions 1 to %d", ErrFormat, b[4], k.version)
	}
	return b[4], nil
}

// parseHeader decodes the fields of a state's 40-byte header after its
// magic and version, and returns it with the number of counts it calls
// for, or an ErrFormat error for fields no metric of kind k writes: an
// unknown element type or flags, a NaN threshold, a threshold without its
// flag, sizes out of range, a vector count of 2^63 or more. The sizes are
// checked against MaxComponents and MaxCounters before anything is sized
// by them.
func parseHeader(b []byte, k kind) (header, int, error) {
	var h header
	h.tag = b[5]
	if elementName(h.tag) == "unknown" {
		return h, 0, fmt.Errorf("%w: unknown element type %d", ErrFormat, h.tag)
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
		return h, 0, fmt.Errorf("%w: unknown flags %#x/%#x", ErrFormat, flags, b[7])
	case rule.check() != nil:
		return h, 0, fmt.Errorf("%w: threshold is NaN", ErrFormat)
	case rule.kind == ruleNonZero && thresholdBits != 0:
		return h, 0, fmt.Errorf("%w: a threshold without the threshold flag", ErrFormat)
	case components > MaxComponents || features > MaxCounters:
		return h, 0, fmt.Errorf("%w: %d components, %d features out of range", ErrFormat, components, features)
	case vectors > math.MaxInt64:
		return h, 0, fmt.Errorf("%w: vector count %d is negative as an int64", ErrFormat, vectors)
	}
	h.components, h.features, h.vectors = int(components), int(features), int64(vectors)
	n, ok := k.stateCounters(h)
	if !ok {
		return h, 0, fmt.Errorf("%w: %d components, %d features: not a state of this metric", ErrFormat, h.components, h.features)
	}
	return h, n, nil
}

// checkCounts checks serialized counts against their state's vector count
// (no count without a vector) and returns the largest.
func checkCounts(raw []byte, vectors int64, first int) (uint64, error) {
	var most uint64
	for i := 0; i+8 <= len(raw); i += 8 {
		c := binary.LittleEndian.Uint64(raw[i:])
		if c > 0 && vectors == 0 {
			return 0, fmt.Errorf("%w: counter %d is %d with no vector", ErrFormat, first+i/8, c)
		}
		most = max(most, c)
	}
	return most, nil
}

// decodeCounts decodes serialized counts into counts, len(raw)/8 of them.
func decodeCounts(counts []uint64, raw []byte) {
	for i := range counts[:len(raw)/8] {
		counts[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
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

// appendBinary appends the binary state of c to b.
func (c *core[T, K]) appendBinary(b []byte) ([]byte, error) {
	if c == nil {
		return b, c.errNil()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.config()
	h.vectors = c.vectors
	return appendState(b, kindOf[K](), h, c.countsLocked(), c.last), nil
}

func (c *core[T, K]) marshalBinary() ([]byte, error) {
	if c == nil {
		return nil, c.errNil()
	}
	words := 1
	if c.last != nil {
		words = 2
	}
	return c.appendBinary(make([]byte, 0, headerSize+8*words*c.counters()+checksumSize))
}

// unmarshalBinary replaces c's state with the state b, which must be
// complete, intact and consistent (no count without a vector) and of a
// metric of c's configuration; otherwise it returns an ErrFormat or
// ErrMismatch error and leaves c unchanged. The counts are decoded
// straight into c's: nothing is allocated, whatever the state's size.
func (c *core[T, K]) unmarshalBinary(b []byte) error {
	if c == nil {
		return c.errNil()
	}
	h, raw, since, err := parseState(b, kindOf[K]())
	if err != nil {
		return err
	}
	if err := checkConfig(h, c.config()); err != nil {
		return err
	}
	limit, err := checkCounts(raw, h.vectors, 0)
	if err != nil {
		return err
	}
	if err := checkSinceState(raw, since, h.vectors, 0); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	decodeCounts(c.countsLocked(), raw)
	c.vectors = h.vectors
	c.limit = limit
	switch {
	case c.last == nil: // a metric without SinceFired: the counts alone
	case since == nil:
		c.lastFromCountsLocked()
	default:
		decodeSince(c.last, since, h.vectors)
	}
	return nil
}

// readPieceBytes is the size of the pieces readFrom reads a state in.
const readPieceBytes = 128 << 10

// readFrom reads a state from r to its end into c, which must be empty
// (FeatureActivity.ReadFrom says the rest).
func (c *core[T, K]) readFrom(r io.Reader) (int64, error) {
	if c == nil {
		return 0, c.errNil()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vectors != 0 || c.limit != 0 {
		return 0, fmt.Errorf("%w: ReadFrom into a metric that has counted %d vectors; read the state into a new one and Merge it", ErrConfig, c.vectors)
	}
	sr := stateReader{r: r}
	h, n, version, err := sr.header(kindOf[K]())
	if err != nil {
		return sr.read, err
	}
	mismatch := checkConfig(h, c.config())
	into := c.countsLocked()
	if mismatch != nil {
		into = nil // read to the checksum, kept nowhere
	}
	limit, err := sr.counts(into, n, h.vectors)
	if err == nil && version >= activityVersion {
		err = sr.since(c.last, into, n, h.vectors)
	}
	if err == nil {
		err = sr.end()
	}
	if err == nil {
		err = mismatch
	}
	if err != nil {
		clear(c.counts) // as it was: empty
		clear(c.last)
		return sr.read, err
	}
	c.vectors = h.vectors
	c.limit = limit
	if version < activityVersion {
		c.lastFromCountsLocked()
	}
	return sr.read, nil
}

// stateReader reads a state from a stream, a piece at a time, keeping its
// running checksum and the bytes read.
type stateReader struct {
	r    io.Reader
	crc  uint32
	read int64
	buf  []byte
}

// full reads len(p) bytes into p, adding them to the checksum; an early end
// is an ErrFormat error that says what it cut.
func (sr *stateReader) full(p []byte, what string) error {
	n, err := io.ReadFull(sr.r, p)
	sr.read += int64(n)
	sr.crc = crc32.Update(sr.crc, castagnoli, p[:n])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: the state ends in %s, after %d bytes (truncated)", ErrFormat, what, sr.read)
	case err != nil:
		return err
	}
	return nil
}

// header reads and checks the 40-byte header: magic, version, and the
// fields parseHeader checks.
func (sr *stateReader) header(k kind) (header, int, byte, error) {
	var b [headerSize]byte
	if err := sr.full(b[:], "its header"); err != nil {
		return header{}, 0, 0, err
	}
	version, err := checkMagic(b[:], k)
	if err != nil {
		return header{}, 0, 0, err
	}
	h, n, err := parseHeader(b[:], k)
	return h, n, version, err
}

// counts reads n counts, decoding them into into unless it is nil, and
// returns the largest; a count without a vector is an ErrFormat error,
// unless into is nil (the state is of another configuration, an
// ErrMismatch if its checksum holds, as UnmarshalBinary decides).
func (sr *stateReader) counts(into []uint64, n int, vectors int64) (uint64, error) {
	var most uint64
	sr.buf = make([]byte, min(readPieceBytes, 8*n))
	for done := 0; done < n; {
		piece := sr.buf[:8*min(len(sr.buf)/8, n-done)]
		if err := sr.full(piece, "its counts"); err != nil {
			return 0, err
		}
		if into != nil {
			m, err := checkCounts(piece, vectors, done)
			if err != nil {
				return 0, err
			}
			decodeCounts(into[done:], piece)
			most = max(most, m)
		}
		done += len(piece) / 8
	}
	return most, nil
}

// end reads the checksum and checks it, and that nothing follows it.
func (sr *stateReader) end() error {
	want := sr.crc
	var b [checksumSize + 1]byte
	n, err := io.ReadFull(sr.r, b[:checksumSize])
	sr.read += int64(n)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: the state ends in its checksum, after %d bytes (truncated)", ErrFormat, sr.read)
	case err != nil:
		return err
	}
	if got := binary.LittleEndian.Uint32(b[:]); got != want {
		return fmt.Errorf("%w: checksum %08x, the data's %08x (truncated or corrupt)", ErrFormat, got, want)
	}
	n, err = io.ReadFull(sr.r, b[checksumSize:])
	sr.read += int64(n)
	switch {
	case n > 0:
		return fmt.Errorf("%w: bytes after the state's %d", ErrFormat, sr.read-1)
	case err != io.EOF:
		return err
	}
	return nil
}
