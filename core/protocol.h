/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fuse service protocol, version 1 (../shared/PROTOCOL.md, upstream
 * libfuse 3.19): one type per message and the only place that turns them
 * into bytes and back. Decoders only ever see a std::span of the packet, so
 * they cannot read past it; every rule of the wire contract is checked here
 * and nowhere else.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace fsvc::proto
{

/* Magic numbers (big-endian on the wire). */
inline constexpr uint32_t kHelloCmd = 0x53414654;      /* SAFT */
inline constexpr uint32_t kHelloReply = 0x4c415354;    /* LAST */
inline constexpr uint32_t kOpenReply = 0x46494c45;     /* FILE */
inline constexpr uint32_t kSimpleReply = 0x5245504c;   /* REPL */
inline constexpr uint32_t kOpenCmd = 0x4f50454e;       /* OPEN */
inline constexpr uint32_t kOpenBdevCmd = 0x42444556;   /* BDEV */
inline constexpr uint32_t kFsopenCmd = 0x54595045;     /* TYPE */
inline constexpr uint32_t kSourceCmd = 0x4e414d45;     /* NAME */
inline constexpr uint32_t kMntOptsCmd = 0x4f505453;    /* OPTS */
inline constexpr uint32_t kMtabOptsCmd = 0x4d544142;   /* MTAB */
inline constexpr uint32_t kMountpointCmd = 0x4d4e5450; /* MNTP */
inline constexpr uint32_t kMountCmd = 0x444f4954;      /* DOIT */
inline constexpr uint32_t kByeCmd = 0x42594545;        /* BYEE */
inline constexpr uint32_t kArgsMagic = 0x41524753;     /* ARGS */

inline constexpr uint16_t kProtoVersion = 1;
inline constexpr uint16_t kMinProtoVersion = 1;
inline constexpr uint16_t kMaxProtoVersion = 1;

/* HELLO flags. */
inline constexpr uint32_t kHelloAllowOther = 1U << 0;
inline constexpr uint32_t kHelloFuseblk = 1U << 1;
inline constexpr uint32_t kHelloKnownFlags = kHelloAllowOther | kHelloFuseblk;

/* OPEN / BDEV request_flags. */
inline constexpr uint32_t kOpenQuiet = 1U << 0;
inline constexpr uint32_t kOpenKnownFlags = kOpenQuiet;

/* TYPE fsopen_flags. */
inline constexpr uint32_t kFsopenFuseblk = 1U << 0;
inline constexpr uint32_t kFsopenKnownFlags = kFsopenFuseblk;

/* MNTP expected_fmt values besides 0 ("either"). */
inline constexpr uint16_t kFmtDir = 0x4000; /* S_IFDIR */
inline constexpr uint16_t kFmtReg = 0x8000; /* S_IFREG */

/* No packet may be larger than this. */
inline constexpr size_t kMaxPacketSize = 65536;

/* Fixed-size packets and the fixed heads of the variable ones. */
inline constexpr size_t kHelloSize = 12;
inline constexpr size_t kHelloReplySize = 8;
inline constexpr size_t kSimpleReplySize = 8;
inline constexpr size_t kOpenReplyHead = 8;
inline constexpr size_t kOpenCmdHead = 20;
inline constexpr size_t kFsopenSize = 8;
inline constexpr size_t kStringCmdHead = 4;
inline constexpr size_t kMountpointHead = 8;
inline constexpr size_t kMountSize = 8;
inline constexpr size_t kByeSize = 8;

/* Names of the two files every conversation starts with. */
inline constexpr std::string_view kArgvFileName = "argv";
inline constexpr std::string_view kFusedevFileName = "fusedev";

using Bytes = std::vector<std::byte>;

/* helper -> server */
struct Hello {
	uint16_t min_version = kMinProtoVersion;
	uint16_t max_version = kMaxProtoVersion;
	uint32_t flags = 0;
};

/* server -> helper */
struct HelloReply {
	uint16_t version = kProtoVersion;
};

/* helper -> server: the answer to TYPE, NAME, OPTS, MTAB, MNTP and DOIT. */
struct SimpleReply {
	uint32_t error = 0; /* positive errno, 0 for success */
};

/* helper -> server: the answer to OPEN/BDEV; an fd travels with error == 0. */
struct OpenReply {
	uint32_t error = 0;
	std::string path;
};

/* server -> helper commands */
struct OpenCommand {
	bool blockdev = false; /* BDEV rather than OPEN */
	uint32_t open_flags = 0;
	uint32_t create_mode = 0;
	uint32_t request_flags = 0;
	uint32_t block_size = 0;
	std::string path;
};
struct FsopenCommand {
	uint32_t fsopen_flags = 0;
};
struct SourceCommand {
	std::string value;
};
struct MntOptsCommand {
	std::string value;
};
struct MtabOptsCommand {
	std::string value;
};
struct MountpointCommand {
	uint16_t expected_fmt = 0;
	std::string path;
};
struct MountCommand {
	uint32_t ms_flags = 0;
};
struct ByeCommand {
	uint32_t exitcode = 0;
};

using Command = std::variant<OpenCommand, FsopenCommand, SourceCommand, MntOptsCommand,
			     MtabOptsCommand, MountpointCommand, MountCommand, ByeCommand>;

/*
 * Encoders. They return an empty buffer when the message cannot be put on
 * the wire (a string that is empty, holds a NUL, or makes the packet larger
 * than kMaxPacketSize), so a caller can never send what a decoder rejects.
 */
Bytes encode(const Hello &msg);
Bytes encode(const HelloReply &msg);
Bytes encode(const SimpleReply &msg);
Bytes encode(const OpenReply &msg);
Bytes encode(const OpenCommand &msg);
Bytes encode(const FsopenCommand &msg);
Bytes encode(const SourceCommand &msg);
Bytes encode(const MntOptsCommand &msg);
Bytes encode(const MtabOptsCommand &msg);
Bytes encode(const MountpointCommand &msg);
Bytes encode(const MountCommand &msg);
Bytes encode(const ByeCommand &msg);
Bytes encode(const Command &msg);

/*
 * Decoders, one per direction of each exchange.
 *
 * decode_hello: -EBADMSG for a wrong size or magic, -EOPNOTSUPP when no
 * common version exists (or min > max), -EINVAL for unknown flag bits.
 * decode_hello_reply: -EBADMSG for size or magic, -EOPNOTSUPP for a version
 * we do not speak, -EINVAL for nonzero padding.
 * decode_simple_reply, decode_open_reply: -EBADMSG for anything malformed.
 */
Result<Hello> decode_hello(std::span<const std::byte> packet);
Result<HelloReply> decode_hello_reply(std::span<const std::byte> packet);
Result<SimpleReply> decode_simple_reply(std::span<const std::byte> packet);
Result<OpenReply> decode_open_reply(std::span<const std::byte> packet);

/*
 * decode_command: -EBADMSG when the packet is too short to hold a magic
 * number or larger than kMaxPacketSize, -ENOMSG for a magic that is not a
 * server command, -EINVAL for a known command that breaks a rule (size,
 * string, padding, flags, expected format). The helper answers -EINVAL with
 * a reply and ends the conversation on the other two.
 */
Result<Command> decode_command(std::span<const std::byte> packet);

/* The magic number of a packet, or 0 when it is shorter than one. */
uint32_t packet_magic(std::span<const std::byte> packet) noexcept;

/*
 * The path of an OPEN/BDEV packet if it holds a well-formed one, else "?":
 * what the helper echoes back when it refuses a malformed request.
 */
std::string open_command_path(std::span<const std::byte> packet);

/* Human-readable name of a magic number ("OPEN", "BYEE"...), for messages. */
std::string magic_name(uint32_t magic);

} // namespace fsvc::proto
