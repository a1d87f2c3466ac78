/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which on-disk features the read-only engine serves. Checked on the raw
 * superblock before libext2fs parses anything else, so an image we cannot
 * read correctly is refused with one line naming the feature.
 */
#pragma once

#include <ext2fs/ext2_fs.h>

#include <string>

namespace fsvc::ext4
{

/* An empty string when the image can be served; else why not (one line). */
std::string unsupportedFeature(const ext2_super_block &sb);

/* An empty string when the image may be written; else which feature we do
 * not write correctly (one line), and the image is served read-only. */
std::string writeRefusal(const ext2_super_block &sb);

} // namespace fsvc::ext4
