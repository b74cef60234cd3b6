package main

// smallNPY returns a float32 .npy file of shape (rows, 4, 8), some of its
// elements non-zero (which, by seed).
func smallNPY(rows int, seed byte) []byte {
	data := npyHeader("<f4", int64(rows), 4, 8)
	for i := range rows * 4 * 8 {
		v := []byte{0, 0, 0, 0}
		if (byte(i)*7+seed)%3 == 0 {
			v = []byte{0, 0, 0x80, 0x3f} // 1.0
		}
		data = append(data, v...)
	}
	return data
}
