/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/ext4/acl.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace fsvc::ext4
{

namespace
{

/* The xattr form's constants (linux/posix_acl_xattr.h, posix_acl.h). */
constexpr uint32_t kVersion = 2;
constexpr uint16_t kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kGroup = 0x08, kMask = 0x10,
		   kOther = 0x20;
constexpr size_t kHeader = 4, kEntry = 8;

uint16_t get16(const std::byte *p)
{
	uint16_t v;
	std::memcpy(&v, p, 2);
	return v; /* little-endian hosts only, like the on-disk code */
}

void put16(std::byte *p, uint16_t v)
{
	std::memcpy(p, &v, 2);
}

bool wellFormed(const std::vector<std::byte> &acl)
{
	if (acl.size() < kHeader || (acl.size() - kHeader) % kEntry != 0)
		return false;
	uint32_t version;
	std::memcpy(&version, acl.data(), 4);
	return version == kVersion;
}

} // namespace

Result<bool> aclToMode(const std::vector<std::byte> &acl, mode_t &mode)
{
	if (!wellFormed(acl))
		return Error{-EINVAL};
	mode_t m = mode & ~mode_t(0777);
	bool equiv = true;
	int group = -1, mask = -1;
	for (size_t off = kHeader; off < acl.size(); off += kEntry) {
		uint16_t tag = get16(&acl[off]), perm = get16(&acl[off + 2]) & 7;
		switch (tag) {
		case kUserObj:
			m |= mode_t(perm) << 6;
			break;
		case kGroupObj:
			group = perm;
			break;
		case kOther:
			m |= perm;
			break;
		case kMask:
			mask = perm;
			equiv = false;
			break;
		case kUser:
		case kGroup:
			equiv = false;
			break;
		default:
			return Error{-EINVAL};
		}
	}
	if (group < 0)
		return Error{-EINVAL};
	m |= mode_t(mask >= 0 ? mask : group) << 3;
	mode = m;
	return equiv;
}

Result<bool> aclCreateMasq(std::vector<std::byte> &acl, mode_t &mode)
{
	if (!wellFormed(acl))
		return Error{-EINVAL};
	bool not_equiv = false;
	size_t group = 0, mask = 0;
	for (size_t off = kHeader; off < acl.size(); off += kEntry) {
		uint16_t tag = get16(&acl[off]), perm = get16(&acl[off + 2]);
		switch (tag) {
		case kUserObj:
			perm &= uint16_t((mode >> 6) | ~7U);
			put16(&acl[off + 2], perm);
			mode &= (mode_t(perm) << 6) | ~mode_t(0700);
			break;
		case kUser:
		case kGroup:
			not_equiv = true;
			break;
		case kGroupObj:
			group = off;
			break;
		case kOther:
			perm &= uint16_t(mode | ~7U);
			put16(&acl[off + 2], perm);
			mode &= mode_t(perm) | ~mode_t(07);
			break;
		case kMask:
			mask = off;
			not_equiv = true;
			break;
		default:
			return Error{-EINVAL};
		}
	}
	size_t which = mask ? mask : group;
	if (!which)
		return Error{-EINVAL};
	uint16_t perm = get16(&acl[which + 2]) & uint16_t((mode >> 3) | ~7U);
	put16(&acl[which + 2], perm);
	mode &= (mode_t(perm) << 3) | ~mode_t(070);
	return not_equiv;
}

Result<void> aclChmod(std::vector<std::byte> &acl, mode_t mode)
{
	if (!wellFormed(acl))
		return Error{-EINVAL};
	size_t group = 0, mask = 0;
	for (size_t off = kHeader; off < acl.size(); off += kEntry) {
		uint16_t tag = get16(&acl[off]);
		if (tag == kUserObj)
			put16(&acl[off + 2], uint16_t((mode >> 6) & 7));
		else if (tag == kOther)
			put16(&acl[off + 2], uint16_t(mode & 7));
		else if (tag == kGroupObj)
			group = off;
		else if (tag == kMask)
			mask = off;
	}
	size_t which = mask ? mask : group;
	if (!which)
		return Error{-EINVAL};
	put16(&acl[which + 2], uint16_t((mode >> 3) & 7));
	return {};
}

} // namespace fsvc::ext4
