/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one option-list tokenizer: each quoting mode reads a list the way
 * its reader does (mount(8) and mtab: none; fuse_opt: backslash; the
 * kernel: double quotes), empty tokens included.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/option_list.h"

using fsvc::join_options;
using fsvc::Quoting;
using fsvc::split_options;
using Tokens = std::vector<std::string>;

TEST(OptionList, EmptyListIsOneEmptyToken)
{
	for (Quoting q : {Quoting::None, Quoting::Backslash, Quoting::DoubleQuotes})
		EXPECT_EQ(split_options("", q), Tokens{""});
}

TEST(OptionList, NoneSplitsAtEveryComma)
{
	EXPECT_EQ(split_options("ro,,x-a=\"b,c\",a\\,b", Quoting::None),
		  (Tokens{"ro", "", "x-a=\"b", "c\"", "a\\", "b"}));
	EXPECT_EQ(split_options(",", Quoting::None), (Tokens{"", ""}));
}

TEST(OptionList, BackslashEscapesTheNextCharacter)
{
	EXPECT_EQ(split_options("a\\,b,c", Quoting::Backslash), (Tokens{"a,b", "c"}));
	EXPECT_EQ(split_options("a\\\\,b", Quoting::Backslash), (Tokens{"a\\", "b"}));
	/* A trailing backslash escapes nothing and stays. */
	EXPECT_EQ(split_options("a\\", Quoting::Backslash), Tokens{"a\\"});
	/* Quotes mean nothing to fuse_opt. */
	EXPECT_EQ(split_options("x=\"a,b\"", Quoting::Backslash), (Tokens{"x=\"a", "b\""}));
}

TEST(OptionList, DoubleQuotesKeepCommasAndQuotes)
{
	EXPECT_EQ(split_options("context=\"a,b\",ro", Quoting::DoubleQuotes),
		  (Tokens{"context=\"a,b\"", "ro"}));
	/* An unbalanced quote runs to the end of the list. */
	EXPECT_EQ(split_options("a=\"b,allow_other", Quoting::DoubleQuotes),
		  Tokens{"a=\"b,allow_other"});
	/* Backslashes mean nothing to the kernel. */
	EXPECT_EQ(split_options("a\\,b", Quoting::DoubleQuotes), (Tokens{"a\\", "b"}));
}

TEST(OptionList, Join)
{
	EXPECT_EQ(join_options(Tokens{}), "");
	EXPECT_EQ(join_options(Tokens{"ro", "x-a"}), "ro,x-a");
	EXPECT_EQ(join_options(Tokens{"", "ro"}), "ro");
}
