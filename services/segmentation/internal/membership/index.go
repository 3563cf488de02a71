package membership

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"sort"
)

// idIndex holds a snapshot's customer ids, sorted, and maps each id to its
// ordinal (its position in that order).
//
// The ids live in one arena of records, one per customer in ordinal order:
// the ordinal (4 bytes, little endian), the id's length (uvarint) and its
// bytes. The hash table is open-addressing with linear probing, at most
// half full; a slot holds the top 24 bits of the id's hash (the tag) and
// its record's offset + 1 in the low 40 bits (0 = empty slot). So a lookup touches the slot
// and then, only if the tag matches, one record, which holds both the id to
// compare and the ordinal; misses and collisions rarely touch the arena.
// lookupBatch overlaps the cache misses of many ids. The arena and the
// offsets hold no pointers, so the garbage collector never scans them.
type idIndex struct {
	seed  maphash.Seed
	arena string
	start []uint64 // start[ord] = offset of the ord-th record
	slots []uint64 // tag<<offsetBits | offset+1
	mask  uint64
}

const (
	offsetBits = 40
	offsetMask = 1<<offsetBits - 1
)

// newIDIndex indexes ids, which must be sorted and unique.
func newIDIndex(ids []string) (idIndex, error) {
	total := 0
	for _, id := range ids {
		total += 4 + uvarintLen(len(id)) + len(id)
	}
	if total >= offsetMask {
		return idIndex{}, fmt.Errorf("membership: %d bytes of customer ids, at most %d", total, offsetMask-1)
	}
	size := uint64(16)
	for size < uint64(len(ids))*2 {
		size <<= 1
	}
	x := idIndex{seed: maphash.MakeSeed(), start: make([]uint64, len(ids)), slots: make([]uint64, size), mask: size - 1}
	arena := make([]byte, 0, total)
	for ord, id := range ids {
		off := len(arena)
		x.start[ord] = uint64(off)
		arena = binary.LittleEndian.AppendUint32(arena, uint32(ord))
		arena = binary.AppendUvarint(arena, uint64(len(id)))
		arena = append(arena, id...)
		h := maphash.String(x.seed, id)
		i := h & x.mask
		for x.slots[i] != 0 {
			i = (i + 1) & x.mask
		}
		x.slots[i] = h>>offsetBits<<offsetBits | uint64(off+1)
	}
	x.arena = string(arena)
	return x, nil
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// len returns the number of ids.
func (x *idIndex) len() int { return len(x.start) }

// record returns the ordinal and id of the record at off.
func (x *idIndex) record(off uint64) (int, string) {
	ord := binary.LittleEndian.Uint32([]byte(x.arena[off : off+4]))
	p := int(off) + 4
	n := int(x.arena[p])
	p++
	if n >= 0x80 { // ids of 128 bytes or more
		v, w := binary.Uvarint([]byte(x.arena[p-1:]))
		n, p = int(v), p-1+w
	}
	return int(ord), x.arena[p : p+n]
}

// id returns the id of ordinal ord. It shares the arena's memory.
func (x *idIndex) id(ord int) string {
	_, id := x.record(x.start[ord])
	return id
}

// search returns the smallest ordinal whose id is >= id (len() if none).
func (x *idIndex) search(id string) int {
	return sort.Search(x.len(), func(ord int) bool { return x.id(ord) >= id })
}

// lookup returns id's ordinal.
func (x *idIndex) lookup(id string) (int, bool) {
	if x.len() == 0 {
		return 0, false
	}
	h := maphash.String(x.seed, id)
	return x.probe(h, id)
}

func (x *idIndex) probe(h uint64, id string) (int, bool) {
	tag := h >> offsetBits
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		v := x.slots[i]
		if v == 0 {
			return 0, false
		}
		if v>>offsetBits == tag {
			if ord, got := x.record(v&offsetMask - 1); got == id {
				return ord, true
			}
		}
	}
}

// batch is how many ids lookupBatch works on at a time: enough to keep
// several cache misses in flight, few enough for its scratch to stay in L1.
const batch = 64

// lookupBatch sets ords[k] to the ordinal of ids[k], or -1 if it is not
// indexed; len(ids) <= batch and len(ords) >= len(ids). It works in stages
// over all the ids (hash them, load their home slots, then probe and
// compare) so that the slot loads, which miss the CPU caches, are
// independent of each other and overlap, where one id at a time would wait
// for each miss in turn. (A further stage touching the candidate records
// before comparing measured no faster.)
func (x *idIndex) lookupBatch(ids []string, ords []int32) {
	if x.len() == 0 {
		for k := range ids {
			ords[k] = -1
		}
		return
	}
	var hs, home [batch]uint64
	ids = ids[:min(len(ids), batch)]
	for k, id := range ids {
		hs[k] = maphash.String(x.seed, id)
	}
	for k := range ids {
		home[k] = x.slots[hs[k]&x.mask]
	}
	for k, id := range ids {
		if home[k] == 0 {
			ords[k] = -1
			continue
		}
		ord, ok := x.probe(hs[k], id)
		if !ok {
			ord = -1
		}
		ords[k] = int32(ord)
	}
}
