/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file filesystem.h
 * @brief A read-only ext2/3/4 filesystem engine on libext2fs, without FUSE.
 *
 * The FUSE server (main.cpp, fuse_ops.cpp), the tests and the fuzzer all
 * drive the same Filesystem object: open an image from a descriptor, then
 * lookup/getattr/readdir/read/readlink/xattrs by on-disk inode number.
 *
 * Threading: every call may come from any thread. Calls that touch
 * libext2fs (which is not thread-safe) take one internal lock; the file-data
 * path does not: openFile() maps the extents under the lock once, and
 * planRead()/read() then work on that map and pread() the descriptor.
 *
 * Read-write (filesystem_write.cpp): every change runs under the one lock
 * and drops exactly the cached attrs, directories and file maps it made
 * stale. A file's data is also guarded by a reader/writer lock per inode
 * (dataLock()): a read holds it shared from taking the map to the end of
 * its pread, so reads of one file run in parallel with each other and with
 * anything on other files, while a write, truncate or punch of that file
 * waits for them and they for it (no torn data, no read of blocks freed
 * and reused).
 *
 * Errors are negative errno values: -EUCLEAN for a corrupt structure or a
 * bad metadata checksum (logged once per occurrence with the program name),
 * -EIO for an I/O error, -ENOENT/-ENOTDIR/-EISDIR/-ENODATA as usual.
 */
#pragma once

#include <ext2fs/ext2fs.h>

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "fs/ext4/replay/open_replayed.h"

namespace fsvc::ext4
{

/** How to open an image. */
struct OpenOptions {
	/** Do not replay a dirty journal: serve the in-place metadata (`-o norecovery`). */
	bool norecovery = false;
	/** Open for writing (the descriptor must be writable). When the image
	 * cannot be written safely (see writeRefusal()) the open falls back to
	 * read-only with one line saying why; writable() tells which it is. */
	bool write = false;
};

/** Which fields setattr() changes (the values of libfuse's FUSE_SET_ATTR_*). */
namespace set_attr
{
constexpr int mode = 1 << 0, uid = 1 << 1, gid = 1 << 2, size = 1 << 3, atime = 1 << 4,
	      mtime = 1 << 5, atime_now = 1 << 7, mtime_now = 1 << 8, ctime = 1 << 10;
} // namespace set_attr

/** Who creates a node, for its owner and the umask. */
struct Creator {
	uid_t uid = 0;
	gid_t gid = 0;
	mode_t umask = 0; /**< applied unless the parent has a default ACL */
};

/** One directory entry as stored on disk. */
struct DirEntry {
	std::string name;
	ext2_ino_t ino;
	unsigned char type; /**< DT_* value; DT_UNKNOWN without the filetype feature */
};

/** A directory read once, with an index for lookups (htree or not). */
struct Directory {
	std::vector<DirEntry> entries; /**< in on-disk order, "." and ".." included */
	std::unordered_map<std::string_view, uint32_t> index; /**< name -> position */
};

/** A run of logical blocks mapped to contiguous physical blocks. */
struct Run {
	uint64_t lblk;
	uint64_t pblk;
	uint32_t len;
	bool unwritten; /**< reads as zeros */
};

/** What a read needs, built once per open file. Immutable afterwards. */
struct FileMap {
	ext2_ino_t ino = 0;
	uint64_t size = 0;
	bool is_inline = false;
	std::vector<std::byte> inline_data;
	std::vector<Run> runs; /**< sorted by lblk, not overlapping */
};

/** A piece of a read reply. */
struct Segment {
	enum class Kind { Device, Memory, Zero } kind;
	uint64_t pos;         /**< Device: byte offset in the image */
	size_t len;           /**< bytes */
	const std::byte *mem; /**< Memory: the bytes (owned by the FileMap or overlay) */
};

/**
 * Blocks that replace what is on the device (a replayed journal). Returns an
 * empty span for a block that is not overlaid. Called without the lock.
 */
using OverlayFind = std::function<std::span<const std::byte>(blk64_t)>;

class Filesystem
{
public:
	/**
	 * Open an image read-only: check the superblock's features (an
	 * unsupported one is refused with one line naming it), replay a
	 * dirty journal in memory unless @p opts says norecovery (see
	 * replay/open_replayed.h), and open it with libext2fs through the
	 * overlay. The one place an image is opened.
	 *
	 * @param fd the image or block device; the Filesystem keeps it
	 */
	static Result<std::unique_ptr<Filesystem>> open(UniqueFD fd, const OpenOptions &opts);
	~Filesystem();
	Filesystem(const Filesystem &) = delete;
	Filesystem &operator=(const Filesystem &) = delete;

	/** All stat fields of an inode (st_ino is the on-disk number). */
	Result<struct stat> getattr(ext2_ino_t ino);
	/** Creation time (crtime), when the inode has room for it; else -ENODATA. */
	Result<struct timespec> crtime(ext2_ino_t ino);
	/** The inode's generation (for FUSE entries). */
	Result<uint32_t> generation(ext2_ino_t ino);
	/** Find @p name in directory @p parent. */
	Result<ext2_ino_t> lookup(ext2_ino_t parent, std::string_view name);
	/** Read a whole directory (cached; shared with lookups). */
	Result<std::shared_ptr<const Directory>> openDir(ext2_ino_t ino);
	/** Map a regular file for lock-free reads (cached per inode). */
	Result<std::shared_ptr<const FileMap>> openFile(ext2_ino_t ino);
	/** The pieces of [off, off+size) clipped to the file size. No lock. */
	Result<std::vector<Segment>> planRead(const FileMap &map, uint64_t off, size_t size) const;
	/** Read into @p buf (pread of planRead()); returns the byte count. No lock. */
	Result<size_t> read(const FileMap &map, std::span<std::byte> buf, uint64_t off) const;
	/** Target of a fast, slow or inline symlink. */
	Result<std::string> readlink(ext2_ino_t ino);
	/** Filesystem statistics as the kernel's ext4 reports them. */
	Result<struct statvfs> statfs();
	/** Extended attribute names, as the kernel lists them. */
	Result<std::vector<std::string>> listxattr(ext2_ino_t ino);
	/** One attribute's value; ACLs in the kernel's POSIX xattr format. */
	Result<std::vector<std::byte>> getxattr(ext2_ino_t ino, std::string_view name);

	/* ---- Read-write (filesystem_write.cpp); -EROFS on a read-only open. ---- */

	/** Opened for writing? */
	[[nodiscard]] bool writable() const noexcept { return writable_; }
	/** Create a regular file, fifo, socket or device node; its inode number. */
	Result<ext2_ino_t> mknod(ext2_ino_t parent, std::string_view name, mode_t mode, dev_t rdev,
				 const Creator &who);
	Result<ext2_ino_t> mkdir(ext2_ino_t parent, std::string_view name, mode_t mode,
				 const Creator &who);
	Result<ext2_ino_t> symlink(ext2_ino_t parent, std::string_view name,
				   std::string_view target, const Creator &who);
	/** A new name for @p ino. */
	Result<void> link(ext2_ino_t ino, ext2_ino_t parent, std::string_view name);
	Result<void> unlink(ext2_ino_t parent, std::string_view name);
	Result<void> rmdir(ext2_ino_t parent, std::string_view name);
	/** rename(2) with RENAME_NOREPLACE / RENAME_EXCHANGE. */
	Result<void> rename(ext2_ino_t parent, std::string_view name, ext2_ino_t newparent,
			    std::string_view newname, unsigned flags);
	/** set_attr:: bits in @p to_set; returns the new attributes. */
	Result<struct stat> setattr(ext2_ino_t ino, const struct stat &attr, int to_set);
	/** Write at @p off (extends the file); the byte count. */
	Result<size_t> write(ext2_ino_t ino, std::span<const std::byte> data, uint64_t off);
	/** fallocate(2) modes 0, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE. */
	Result<void> fallocate(ext2_ino_t ino, int mode, uint64_t off, uint64_t len);
	/** Everything written so far, this file's data and metadata included, on the device. */
	Result<void> fsync();
	Result<void> setxattr(ext2_ino_t ino, std::string_view name,
			      std::span<const std::byte> value, int flags);
	Result<void> removexattr(ext2_ino_t ino, std::string_view name);
	/** The kernel holds @p n more references to @p ino (lookups, creates). */
	void remember(ext2_ino_t ino, uint64_t n = 1);
	/** The kernel dropped @p n references; an unlinked inode is freed at zero. */
	void forget(ext2_ino_t ino, uint64_t n);
	/** A file handle on @p ino was opened / released (read-write only): an
	 * unlinked regular file is freed when its last handle goes, as in the
	 * kernel, even before the kernel forgets the inode. */
	void opened(ext2_ino_t ino);
	void released(ext2_ino_t ino);
	/** Clean unmount: free unlinked inodes, mark the filesystem clean, flush, fsync. */
	Result<void> close();
	/** The per-inode data lock (see the threading note above). */
	[[nodiscard]] std::shared_mutex &dataLock(ext2_ino_t ino) noexcept
	{
		return data_locks_[ino % kDataLocks];
	}

	/** Serve these blocks instead of the device's (journal replay). */
	void setOverlay(OverlayFind find) { overlay_ = std::move(find); }

	[[nodiscard]] unsigned blockSize() const noexcept { return block_size_; }
	[[nodiscard]] int fd() const noexcept { return fd_.get(); }
	/** The libext2fs handle, for code that runs under lock() (journal replay). */
	[[nodiscard]] ext2_filsys handle() const noexcept { return fs_; }
	[[nodiscard]] std::unique_lock<std::mutex> lock() { return std::unique_lock(mu_); }

private:
	Filesystem() = default;
	Result<ext2_inode_large> readInode(ext2_ino_t ino);
	Result<struct stat> statLocked(ext2_ino_t ino);
	Result<std::shared_ptr<const Directory>> dirLocked(ext2_ino_t ino);
	Result<std::shared_ptr<FileMap>> mapLocked(ext2_ino_t ino, const ext2_inode_large &inode);
	Result<struct ext2_xattr_handle *> xattrsLocked(ext2_ino_t ino);
	[[nodiscard]] bool validIno(ext2_ino_t ino) const noexcept;
	/* filesystem_write.cpp */
	Result<void> openForWrite();
	void invalidate(ext2_ino_t ino);
	Result<void> checkName(std::string_view name) const;
	Result<ext2_ino_t> lookupLocked(ext2_ino_t parent, std::string_view name);
	Result<void> writeInode(ext2_ino_t ino, ext2_inode_large &in);
	Result<void> touchDir(ext2_ino_t dir);
	Result<void> addEntry(ext2_ino_t dir, const std::string &name, ext2_ino_t ino,
			      unsigned mode);
	Result<void> setEntry(ext2_ino_t dir, const char *name, ext2_ino_t ino, unsigned mode);
	Result<void> dropLink(ext2_ino_t ino, bool dir);
	Result<void> freeInode(ext2_ino_t ino);
	Result<ext2_ino_t> newNode(ext2_ino_t parent, std::string_view name, mode_t mode,
				   dev_t rdev, const Creator &who);
	Result<Creator> ownerIn(ext2_ino_t parent, const Creator &who, mode_t &mode);
	Result<mode_t> inheritAcl(ext2_ino_t parent, ext2_ino_t ino, mode_t mode,
				  const Creator &who);
	Result<void> truncateLocked(ext2_ino_t ino, uint64_t size);
	Result<void> chmodAcl(ext2_ino_t ino, mode_t mode);
	Result<bool> writeFresh(ext2_ino_t ino, std::span<const std::byte> data, uint64_t b0,
				uint64_t b1);
	Result<void> zeroRange(ext2_ino_t ino, uint64_t off, uint64_t len);
	Result<void> flushLocked();
	errcode_t commitIfDue();
	void commitLoop();
	void stopCommitter();
	void buildSystemZone();
	[[nodiscard]] bool inSystemZone(uint64_t start, uint64_t len) const noexcept;

	UniqueFD fd_;
	FsPtr owned_fs_;
	ext2_filsys fs_ = nullptr; /* owned_fs_.get() */
	std::shared_ptr<const JournalOverlay> journal_;
	/* Sorted, merged [first, end) block ranges of the metadata. */
	std::vector<std::pair<uint64_t, uint64_t>> system_zone_;
	unsigned block_size_ = 0;
	uint64_t blocks_count_ = 0;
	OverlayFind overlay_;

	bool writable_ = false;
	bool errors_ = false; /* a write failed midway: leave the image marked unclean */
	static constexpr size_t kDataLocks = 64;
	std::shared_mutex data_locks_[kDataLocks];
	/* Kernel references per inode (rw only) and unlinked inodes still referenced. */
	std::unordered_map<ext2_ino_t, uint64_t> nlookup_;
	std::unordered_map<ext2_ino_t, bool> orphans_;
	std::unordered_map<ext2_ino_t, uint64_t> opens_;

	std::mutex mu_;
	/* Held inode-table blocks are written at least this often (while
	 * inodes change): see inode_table_cache.h. */
	static constexpr std::chrono::seconds kCommitInterval{5};
	std::chrono::steady_clock::time_point last_commit_{};
	/* Commits when nothing else does (rw only); stopped by close(). */
	std::thread committer_;
	std::condition_variable commit_cv_;
	bool stop_commit_ = false;
	/* Caches, under mu_; each is cleared as a whole when it grows past its cap. */
	struct CachedAttr {
		struct stat st;
		uint32_t generation;
	};
	std::unordered_map<ext2_ino_t, CachedAttr> attr_cache_;
	std::unordered_map<ext2_ino_t, std::shared_ptr<const Directory>> dir_cache_;
	std::unordered_map<ext2_ino_t, std::shared_ptr<const FileMap>> map_cache_;
	size_t map_cache_weight_ = 0;
	size_t dir_cache_entries_ = 0;
};

/** Turn a libext2fs error into a negative errno (checksums and corruption: -EUCLEAN). */
int errnoFromExt2(errcode_t err) noexcept;

/** Log one line "ext4-service: ..." to stderr. */
void logLine(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace fsvc::ext4
