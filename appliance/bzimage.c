/* Unpack a bzImage's vmlinux ELF, which QEMU boots by its PVH note. */
#include "appliance/appliance.h"
#include "appliance/elfnote.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

/* x86 boot protocol (Documentation/x86/boot.rst), 2.08+ for the payload. */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_PAYLOAD_OFFSET 0x248
#define BZ_PAYLOAD_LENGTH 0x24c
#define BZ_MIN_SIZE 0x250

/* A kernel or a module is far smaller; more means corrupt or hostile. */
#define DECOMPRESS_MAX ((gsize)1 << 30)
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

static const guint8 magic_gzip[] = {0x1f, 0x8b};
static const guint8 magic_xz[] = {0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00};
static const guint8 magic_zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
static const guint8 magic_lz4[] = {0x02, 0x21, 0x4c, 0x18};

static gboolean has_magic(const guint8 *p, gsize len, const guint8 *m,
			  gsize mlen)
{
	return len >= mlen && memcmp(p, m, mlen) == 0;
}

enum vtb_comp vtb_comp_detect(const void *buf, gsize len)
{
	const guint8 *p = buf;

	if (has_magic(p, len, magic_gzip, sizeof(magic_gzip)))
		return VTB_COMP_GZIP;
	if (has_magic(p, len, magic_xz, sizeof(magic_xz)))
		return VTB_COMP_XZ;
	if (has_magic(p, len, magic_zstd, sizeof(magic_zstd)))
		return VTB_COMP_ZSTD;
	if (has_magic(p, len, magic_lz4, sizeof(magic_lz4)))
		return VTB_COMP_LZ4;
	return VTB_COMP_NONE;
}

const char *vtb_comp_name(enum vtb_comp comp)
{
	switch (comp) {
	case VTB_COMP_GZIP:
		return "gzip";
	case VTB_COMP_XZ:
		return "xz";
	case VTB_COMP_ZSTD:
		return "zstd";
	case VTB_COMP_LZ4:
		return "lz4";
	case VTB_COMP_NONE:
		break;
	}
	return "uncompressed";
}

struct outbuf {
	guint8 *p;
	gsize len, cap;
};

/* Make room for at least @want more bytes (doubling, capped). */
static gboolean out_reserve(struct outbuf *o, gsize want)
{
	gsize cap = o->cap ? o->cap : 1 << 16;

	if (o->cap - o->len >= want)
		return TRUE;
	while (cap - o->len < want)
		cap *= 2;
	if (cap > DECOMPRESS_MAX)
		cap = DECOMPRESS_MAX;
	if (cap - o->len < want)
		return FALSE;
	o->p = g_realloc(o->p, cap);
	o->cap = cap;
	return TRUE;
}

/* Bytes after a finished stream: another stream of @m, or the end. */
static gboolean next_stream(const guint8 **in, gsize *left, const guint8 *m,
			    gsize mlen, gboolean skip_zeros)
{
	while (skip_zeros && *left > 0 && **in == 0) {
		(*in)++;
		(*left)--;
	}
	return has_magic(*in, *left, m, mlen);
}

static const char *gzip_run(const guint8 *in, gsize len, struct outbuf *o)
{
	z_stream zs = {0};
	const char *e = NULL;
	int ret;

	if (len > UINT_MAX)
		return "input too large";
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return "cannot initialise zlib";
	zs.next_in = (Bytef *)in;
	zs.avail_in = len;
	for (;;) {
		if (!out_reserve(o, 1 << 20)) {
			e = "output larger than 1 GiB";
			break;
		}
		zs.next_out = o->p + o->len;
		zs.avail_out = MIN(o->cap - o->len, UINT_MAX);
		ret = inflate(&zs, Z_NO_FLUSH);
		o->len = zs.next_out - o->p;
		if (ret == Z_STREAM_END) {
			const guint8 *rest = zs.next_in;
			gsize left = zs.avail_in;

			if (!next_stream(&rest, &left, magic_gzip,
					 sizeof(magic_gzip), FALSE))
				break;
			inflateReset(&zs);
			continue;
		}
		if (ret == Z_BUF_ERROR && zs.avail_in == 0) {
			e = "data truncated";
			break;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			e = zs.msg ? zs.msg : "corrupt data";
			break;
		}
	}
	inflateEnd(&zs);
	return e;
}

static const char *xz_error(lzma_ret ret)
{
	switch (ret) {
	case LZMA_FORMAT_ERROR:
		return "not xz data";
	case LZMA_OPTIONS_ERROR:
		return "unsupported xz options";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	case LZMA_BUF_ERROR:
		return "data truncated";
	case LZMA_MEM_ERROR:
	case LZMA_MEMLIMIT_ERROR:
		return "out of memory";
	default:
		return "liblzma error";
	}
}

static const char *xz_run(const guint8 *in, gsize len, struct outbuf *o)
{
	lzma_stream s = LZMA_STREAM_INIT;
	const char *e = NULL;
	lzma_ret ret;

	/* Not LZMA_CONCATENATED: the kernel appends its size after the end. */
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
		return "cannot initialise liblzma";
	s.next_in = in;
	s.avail_in = len;
	for (;;) {
		if (!out_reserve(o, 1 << 20)) {
			e = "output larger than 1 GiB";
			break;
		}
		s.next_out = o->p + o->len;
		s.avail_out = o->cap - o->len;
		ret = lzma_code(&s, LZMA_FINISH);
		o->len = s.next_out - o->p;
		if (ret == LZMA_STREAM_END) {
			const guint8 *rest = s.next_in;
			gsize left = s.avail_in;

			if (!next_stream(&rest, &left, magic_xz,
					 sizeof(magic_xz), TRUE))
				break;
			s.next_in = rest;
			s.avail_in = left;
			ret = lzma_stream_decoder(&s, UINT64_MAX, 0);
			if (ret != LZMA_OK) {
				e = xz_error(ret);
				break;
			}
			continue;
		}
		if (ret == LZMA_BUF_ERROR && s.avail_out > 0) {
			e = "data truncated";
			break;
		}
		if (ret != LZMA_OK && ret != LZMA_BUF_ERROR) {
			e = xz_error(ret);
			break;
		}
	}
	lzma_end(&s);
	return e;
}

static const char *zstd_run(const guint8 *in, gsize len, struct outbuf *o)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_inBuffer ib = {in, len, 0};
	const char *e = NULL;
	size_t ret;

	if (!dc)
		return "cannot initialise libzstd";
	/* The kernel compresses with --ultra -22: windows above the default. */
	ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 31);
	for (;;) {
		ZSTD_outBuffer ob;

		if (!out_reserve(o, 1 << 20)) {
			e = "output larger than 1 GiB";
			break;
		}
		ob.dst = o->p + o->len;
		ob.size = o->cap - o->len;
		ob.pos = 0;
		ret = ZSTD_decompressStream(dc, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(ret)) {
			e = ZSTD_getErrorName(ret);
			break;
		}
		if (ret == 0) {
			const guint8 *rest = in + ib.pos;
			gsize left = len - ib.pos;

			if (!next_stream(&rest, &left, magic_zstd,
					 sizeof(magic_zstd), FALSE))
				break;
			continue;
		}
		if (ib.pos == ib.size && ob.pos < ob.size) {
			e = "data truncated";
			break;
		}
	}
	ZSTD_freeDCtx(dc);
	return e;
}

/*
 * The legacy frame: magic, then (u32 size, block)..., each block at most
 * 8 MiB decoded.  The kernel's appended u32 size ends it.
 */
static const char *lz4_run(const guint8 *in, gsize len, struct outbuf *o)
{
	gsize pos = sizeof(magic_lz4);

	while (len - pos >= 4) {
		guint32 chunk = vtb_le32(in + pos);
		int n;

		if (chunk == LZ4_LEGACY_MAGIC) {
			pos += 4;
			continue;
		}
		if (len - pos == 4)
			break;
		pos += 4;
		if (chunk > len - pos)
			return "data truncated";
		if (chunk > (guint32)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return "corrupt data (block too large)";
		if (!out_reserve(o, LZ4_LEGACY_BLOCK))
			return "output larger than 1 GiB";
		n = LZ4_decompress_safe((const char *)in + pos,
					(char *)o->p + o->len, chunk,
					LZ4_LEGACY_BLOCK);
		if (n < 0)
			return "corrupt data";
		o->len += n;
		pos += chunk;
	}
	return NULL;
}

GBytes *vtb_decompress(enum vtb_comp comp, const void *in, gsize len,
		       gsize size_hint, const char *what, int code,
		       GError **err)
{
	struct outbuf o = {0};
	const char *e;

	/* A little slack spares a last doubling when the hint is exact. */
	if (size_hint > 0 && size_hint < DECOMPRESS_MAX - (2 << 20))
		out_reserve(&o, size_hint + (2 << 20));
	switch (comp) {
	case VTB_COMP_GZIP:
		e = gzip_run(in, len, &o);
		break;
	case VTB_COMP_XZ:
		e = xz_run(in, len, &o);
		break;
	case VTB_COMP_ZSTD:
		e = zstd_run(in, len, &o);
		break;
	case VTB_COMP_LZ4:
		e = lz4_run(in, len, &o);
		break;
	default:
		e = "unknown compression";
		break;
	}
	if (e) {
		g_set_error(err, VTB_APPLIANCE_ERROR, code,
			    "decompress %s (%s): %s", what, vtb_comp_name(comp),
			    e);
		g_free(o.p);
		return NULL;
	}
	return g_bytes_new_take(g_realloc(o.p, MAX(o.len, 1)), o.len);
}

static gboolean write_atomic(const char *dest, const void *data, gsize len,
			     GError **err)
{
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", dest);
	const guint8 *p = data;
	int fd, e;

	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "create a temporary file next to %s: %s", dest,
			    g_strerror(e));
		return FALSE;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, MIN(len, (gsize)1 << 30));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_IO, "write %s: %s", tmp,
				    g_strerror(e));
			goto out_unlink;
		}
		p += n;
		len -= n;
	}
	/* Without it a crash could leave an empty file under the final name. */
	if (fsync(fd) < 0) {
		e = errno;
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "fsync %s: %s", tmp, g_strerror(e));
		goto out_unlink;
	}
	if (close(fd) < 0) {
		e = errno;
		fd = -1;
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "close %s: %s", tmp, g_strerror(e));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, dest) < 0) {
		e = errno;
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "rename %s to %s: %s", tmp, dest, g_strerror(e));
		goto out_unlink;
	}
	return TRUE;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return FALSE;
}

gboolean vtb_bzimage_extract(const char *bzimage, const char *dest,
			     gboolean *has_pvh, GError **err)
{
	g_autoptr(GMappedFile) mf = NULL;
	g_autoptr(GBytes) elf_bytes = NULL;
	g_autofree char *what = NULL;
	const guint8 *d;
	gsize n, pm, off, plen, hint;
	enum vtb_comp comp;
	guint16 proto;
	gboolean ok = FALSE;
	GElf_Ehdr eh;
	Elf *elf;

	mf = vtb_map_file(bzimage, VTB_APPLIANCE_ERR_KERNEL, err);
	if (!mf)
		return FALSE;
	d = (const guint8 *)g_mapped_file_get_contents(mf);
	n = g_mapped_file_get_length(mf);
	if (n < BZ_MIN_SIZE || memcmp(d + BZ_HEADER, "HdrS", 4) != 0) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: not a bzImage (no HdrS setup header)",
			    bzimage);
		return FALSE;
	}
	proto = vtb_le16(d + BZ_VERSION);
	if (proto < 0x208) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: boot protocol %u.%02u has no payload fields "
			    "(2.08 needed)",
			    bzimage, proto >> 8, proto & 0xff);
		return FALSE;
	}
	pm = ((gsize)(d[BZ_SETUP_SECTS] ? d[BZ_SETUP_SECTS] : 4) + 1) * 512;
	off = pm + vtb_le32(d + BZ_PAYLOAD_OFFSET);
	plen = vtb_le32(d + BZ_PAYLOAD_LENGTH);
	if (off > n || plen > n - off || plen < 4) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: truncated bzImage (payload at %zu+%zu, the "
			    "file has %zu bytes)",
			    bzimage, off, plen, n);
		return FALSE;
	}
	comp = vtb_comp_detect(d + off, plen);
	if (comp == VTB_COMP_NONE) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: payload compressed in an unsupported format "
			    "(magic %02x %02x %02x %02x; gzip, xz, zstd and "
			    "lz4 are supported)",
			    bzimage, d[off], d[off + 1], d[off + 2],
			    d[off + 3]);
		return FALSE;
	}
	/* The kernel's build appends the uncompressed size to the payload. */
	hint = vtb_le32(d + off + plen - 4);
	what = g_strdup_printf("%s payload", bzimage);
	elf_bytes = vtb_decompress(comp, d + off, plen, hint, what,
				   VTB_APPLIANCE_ERR_KERNEL, err);
	if (!elf_bytes)
		return FALSE;

	elf_version(EV_CURRENT);
	elf = elf_memory((char *)g_bytes_get_data(elf_bytes, NULL),
			 g_bytes_get_size(elf_bytes));
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: the decompressed payload is not an ELF "
			    "vmlinux",
			    bzimage);
		goto out_end;
	}
	if (has_pvh)
		*has_pvh = vtb_elf_has_pvh(elf);
	ok = write_atomic(dest, g_bytes_get_data(elf_bytes, NULL),
			  g_bytes_get_size(elf_bytes), err);
out_end:
	elf_end(elf);
	return ok;
}
