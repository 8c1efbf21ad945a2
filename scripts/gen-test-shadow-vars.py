# Generates scenarios/test-shadow-vars.yaml: test_klp_shadow_vars.c's init, unrolled for NUM_OBJS = 3.
M = 'test_klp_shadow_vars'
NUM = 3
ID1, ID2 = 0x1234, 0x1235

def ind(text, n=8):
    return '\n'.join((' ' * n + l) if l else '' for l in text.strip('\n').split('\n'))

funcs = {}
PROLOGUE = "push rbp\nmov rbp, rsp\npush rbx\npush r12\npush r13\npush r14\npush r15\nsub rsp, 8\n"
EPILOGUE = "add rsp, 8\npop r15\npop r14\npop r13\npop r12\npop rbx\npop rbp\nret\n"

# ptr_id(): the id of a pointer in the order first seen (a table in the module's data).
funcs['ptr_id'] = """
lea rcx, [rip + ptr_tab]
xor eax, eax
.Lloop:
mov rdx, [rip + ptr_cnt]
cmp rax, rdx
je .Lnew
mov rdx, [rcx]
cmp rdx, rdi
je .Lfound
add rcx, 8
inc rax
jmp .Lloop
.Lnew:
mov [rcx], rdi
mov rdx, [rip + ptr_cnt]
inc rdx
mov [rip + ptr_cnt], rdx
.Lfound:
ret
"""
# shadow_get(obj, id)
funcs['shadow_get'] = PROLOGUE + """
mov rbx, rdi
mov r12, rsi
call klp_shadow_get
mov r13, rax
mov rdi, rbx
call ptr_id
mov r14, rax
mov rdi, r13
call ptr_id
mov rcx, rax
lea rdi, [rip + fmt_get]
mov rsi, r14
mov rdx, r12
call printk
mov rax, r13
""" + EPILOGUE
# shadow_alloc / shadow_get_or_alloc(obj, id, size, gfp, ctor, ctor_data)
for name in ['alloc', 'get_or_alloc']:
    funcs[f'shadow_{name}'] = PROLOGUE + f"""
mov rbx, rdi
mov r12, rsi
mov r13, rdx
mov r14, r8
mov r15, r9
call klp_shadow_{name}
mov [rsp], rax
mov rdi, rbx
call ptr_id
mov rbx, rax
mov rdi, r14
call ptr_id
mov r14, rax
mov rdi, [r15]
call ptr_id
mov r15, rax
mov rdi, [rsp]
call ptr_id
mov rbx, rbx
push rax
push rax
lea rdi, [rip + fmt_{name}1]
mov rsi, rbx
mov rdx, r12
mov rcx, r13
call printk
pop rcx
pop rcx
lea rdi, [rip + fmt_alloc2]
mov rsi, r14
mov rdx, r15
call printk
mov rax, [rsp]
""" + EPILOGUE
funcs['shadow_free'] = PROLOGUE + """
mov rbx, rdi
mov r12, rsi
mov r13, rdx
call klp_shadow_free
mov rdi, rbx
call ptr_id
mov rbx, rax
mov rdi, r13
call ptr_id
mov rcx, rax
lea rdi, [rip + fmt_free]
mov rsi, rbx
mov rdx, r12
call printk
""" + EPILOGUE
funcs['shadow_free_all'] = PROLOGUE + """
mov rbx, rdi
mov r12, rsi
call klp_shadow_free_all
mov rdi, r12
call ptr_id
mov rdx, rax
lea rdi, [rip + fmt_free_all]
mov rsi, rbx
call printk
""" + EPILOGUE
# shadow_ctor(obj, shadow_data, ctor_data): remember simple pointer data
funcs['shadow_ctor'] = PROLOGUE + """
mov eax, -22
test rdx, rdx
je .Lout
mov rbx, rsi
mov rax, [rdx]
mov [rsi], rax
mov r12, rax
mov rdi, rbx
call ptr_id
mov r13, rax
mov rdi, r12
call ptr_id
mov rdx, rax
lea rdi, [rip + fmt_ctor]
mov rsi, r13
call printk
xor eax, eax
.Lout:
""" + EPILOGUE
funcs['shadow_dtor'] = PROLOGUE + """
mov rbx, rsi
call ptr_id
mov r12, rax
mov rdi, rbx
call ptr_id
mov rdx, rax
lea rdi, [rip + fmt_dtor]
mov rsi, r12
call printk
""" + EPILOGUE

# "  got expected PTR%d -> PTR%d result" when [sv] == expected and sv == svN[i]
def check_ptr(sv_reg_save, sv_slot, pn_slot):
    return f"""
mov rax, [rip + {sv_slot}]
cmp rax, r12
jne .Lskip_{sv_slot}_{pn_slot}_{{n}}
mov rax, [rax]
mov rdx, [rip + {pn_slot}]
cmp rax, rdx
jne .Lskip_{sv_slot}_{pn_slot}_{{n}}
mov rdi, [rip + {sv_slot}]
call ptr_id
mov rbx, rax
mov rdi, [rip + {sv_slot}]
mov rdi, [rdi]
call ptr_id
mov rdx, rax
lea rdi, [rip + fmt_expected]
mov rsi, rbx
call printk
.Lskip_{sv_slot}_{pn_slot}_{{n}}:
"""
body = []
n = [0]
def emit(s):
    n[0] += 1
    body.append(s.replace('{n}', str(n[0])))
def null_check():
    emit("""
test rax, rax
jne .Lnn_{n}
lea rdi, [rip + fmt_null]
call printk
.Lnn_{n}:
""")
emit("xor edi, edi\ncall ptr_id\n")
emit(f"lea rdi, [rip + objs]\nmov esi, {ID1}\ncall shadow_get\n")
null_check()
for i in range(NUM):
    emit(f"lea rax, [rip + nfields1 + {i}]\nmov [rip + pnfields1 + {8*i}], rax\nmov rdi, rax\ncall ptr_id\n")
    fn = 'shadow_alloc' if i % 2 else 'shadow_get_or_alloc'
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID1}\nmov edx, 8\nmov ecx, 0xcc0\nlea r8, [rip + shadow_ctor]\nlea r9, [rip + pnfields1 + {8*i}]\ncall {fn}\nmov [rip + sv1 + {8*i}], rax\n")
    emit(f"lea rax, [rip + nfields2 + {4*i}]\nmov [rip + pnfields2 + {8*i}], rax\nmov rdi, rax\ncall ptr_id\n")
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID2}\nmov edx, 8\nmov ecx, 0xcc0\nlea r8, [rip + shadow_ctor]\nlea r9, [rip + pnfields2 + {8*i}]\ncall shadow_alloc\nmov [rip + sv2 + {8*i}], rax\n")
# pass 2
def expect(sv_slot, pn_slot, i):
    # r12 = sv; compare with svN[i], and *svN[i] with pnfieldsN[i]
    emit(f"""
mov rax, [rip + {sv_slot} + {8*i}]
cmp rax, r12
jne .Lskip_{{n}}
mov rax, [rax]
mov rdx, [rip + {pn_slot} + {8*i}]
cmp rax, rdx
jne .Lskip_{{n}}
mov rdi, [rip + {sv_slot} + {8*i}]
call ptr_id
mov rbx, rax
mov rdi, [rip + {sv_slot} + {8*i}]
mov rdi, [rdi]
call ptr_id
mov rdx, rax
lea rdi, [rip + fmt_expected]
mov rsi, rbx
call printk
.Lskip_{{n}}:
""")
for i in range(NUM):
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID1}\ncall shadow_get\nmov r12, rax\n")
    expect('sv1', 'pnfields1', i)
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID2}\ncall shadow_get\nmov r12, rax\n")
    expect('sv2', 'pnfields2', i)
# pass 3
for i in range(NUM):
    emit(f"lea rax, [rip + nfields1 + {i}]\nmov [rip + pndup + {8*i}], rax\nmov rdi, rax\ncall ptr_id\n")
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID1}\nmov edx, 8\nmov ecx, 0xcc0\nlea r8, [rip + shadow_ctor]\nlea r9, [rip + pndup + {8*i}]\ncall shadow_get_or_alloc\nmov r12, rax\n")
    expect('sv1', 'pnfields1', i)
# pass 4
for i in range(NUM):
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID1}\nlea rdx, [rip + shadow_dtor]\ncall shadow_free\n")
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID1}\ncall shadow_get\n")
    null_check()
# pass 5
for i in range(NUM):
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID2}\ncall shadow_get\nmov r12, rax\n")
    expect('sv2', 'pnfields2', i)
# pass 6
emit(f"mov edi, {ID2}\nxor esi, esi\ncall shadow_free_all\n")
for i in range(NUM):
    emit(f"lea rdi, [rip + objs + {32*i}]\nmov esi, {ID2}\ncall shadow_get\n")
    null_check()
funcs['test_klp_shadow_vars_init'] = PROLOGUE + ''.join(body) + "xor eax, eax\n" + EPILOGUE

data = {
    'fmt_get': f'.asciz "{M}: klp_shadow_get(obj=PTR%d, id=0x%lx) = PTR%d\\n"',
    'fmt_alloc1': f'.asciz "{M}: klp_shadow_alloc(obj=PTR%d, id=0x%lx, size=%lx, gfp_flags=GFP_KERNEL), "',
    'fmt_get_or_alloc1': f'.asciz "{M}: klp_shadow_get_or_alloc(obj=PTR%d, id=0x%lx, size=%lx, gfp_flags=GFP_KERNEL), "',
    'fmt_alloc2': '.asciz "ctor=PTR%d, ctor_data=PTR%d = PTR%d\\n"',
    'fmt_free': f'.asciz "{M}: klp_shadow_free(obj=PTR%d, id=0x%lx, dtor=PTR%d)\\n"',
    'fmt_free_all': f'.asciz "{M}: klp_shadow_free_all(id=0x%lx, dtor=PTR%d)\\n"',
    'fmt_ctor': f'.asciz "{M}: shadow_ctor: PTR%d -> PTR%d\\n"',
    'fmt_dtor': f'.asciz "{M}: shadow_dtor(obj=PTR%d, shadow_data=PTR%d)\\n"',
    'fmt_expected': f'.asciz "{M}:   got expected PTR%d -> PTR%d result\\n"',
    'fmt_null': f'.asciz "{M}:   got expected NULL result\\n"',
    'ptr_tab': '.zero 512',
    'ptr_cnt': '.quad 0',
    'objs': f'.zero {32*NUM}',
    'nfields1': f'.zero 8',
    'pnfields1': f'.zero {8*NUM}',
    'sv1': f'.zero {8*NUM}',
    'nfields2': f'.zero {4*NUM + 4}',
    'pnfields2': f'.zero {8*NUM}',
    'sv2': f'.zero {8*NUM}',
    'pndup': f'.zero {8*NUM}',
}

out = []
out.append('''# The kernel selftest tools/testing/selftests/livepatch/test-shadow-vars.sh: lib/livepatch/
# test_klp_shadow_vars.c exercises the shadow variable API from its init — klp_shadow_get(),
# klp_shadow_alloc(), klp_shadow_get_or_alloc() with a constructor, klp_shadow_free() with a
# destructor, klp_shadow_free_all() — on three objects, two ids each, printing pointers as PTR<n> ids
# (its ptr_id() table) so the log is the same on every run. Written here in x86 assembly calling
# klpsim's shadow variable services (src/livepatch/shadow.ts), its loops unrolled (generated; the
# structure follows the C file: pass 1 allocates, 2 and 3 look up, 4 frees SV_ID1, 5 looks up SV_ID2,
# 6 frees all of SV_ID2). The module's data stands in for the C function's stack arrays. Its two-part
# printk lines are one log line each (no newline ends the first part), as pr_cont() would join them.
name: "selftest test-shadow-vars.sh: the shadow variable API"
cpus: 2
kernel_version: "5.1"
modules:
  test_klp_shadow_vars:
    functions:''')
for k, v in funcs.items():
    out.append(f'      {k}: |\n' + ind(v))
for k, v in data.items():
    out.append(f"      {k}: '{v}'")
out.append('''    init: [ { call: test_klp_shadow_vars_init } ]
steps:
  - sh: modprobe test_klp_shadow_vars
  - sh: rmmod test_klp_shadow_vars
''')
open('/work/wt-api15/scenarios/test-shadow-vars.yaml', 'w').write('\n'.join(out))
