/* SPDX-License-Identifier: GPL-2.0 */
/*
 * __init and __exit put a module's init and exit functions in .init.text and .exit.text, as the kernel
 * does; their ftrace sites are recorded like any other (the kernel traces init functions since 4.12).
 */
#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H

#include <linux/compiler.h>

#define __init __section(".init.text") __cold
#define __exit __section(".exit.text") __used __cold
#define __initdata __section(".init.data")
#define __exitdata __section(".exit.data")
#define __initconst __section(".init.rodata")

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

#endif /* _LINUX_INIT_H */
