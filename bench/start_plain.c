/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start-up baseline: a C program that links only libc and returns. */
int main(void)
{
	return 0;
}
