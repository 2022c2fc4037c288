"""What a DataSketches HLL sketch holds, for comparing entlog's sketches with
sketches the DataSketches Python package builds (as Spark's hll_sketch_agg
does: each id's UTF-8 bytes hashed with MurmurHash3, seed 9001)."""
import struct

import datasketches

LG_K = 12


def sketch_of(ids):
    """The HLL_8 sketch (lgK 12) of raw id strings, built in Python."""
    s = datasketches.hll_sketch(LG_K, datasketches.tgt_hll_type.HLL_8)
    for i in ids:
        s.update(i)
    return s


def content(image):
    """What a serialized sketch holds, whatever the order updates came in:
    ('coupons', sorted coupons) in list and set modes, ('registers', bytes)
    in dense HLL_8 mode."""
    mode = image[7] & 3
    start = image[0] * 4
    if mode in (0, 1):
        # A set-mode image starts its coupons after a count word.
        n = (len(image) - start) // 4
        return ("coupons", sorted(struct.unpack(f"<{n}I", image[start:start + 4 * n])))
    if (image[7] >> 2) & 3 != 2:
        raise ValueError("not an HLL_8 image")
    return ("registers", bytes(image[start:start + (1 << LG_K)]))
