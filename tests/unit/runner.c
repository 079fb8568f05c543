/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The main() of every unit test program: registers the module's suites,
 * runs them with CUnit's basic interface (whose "Run Summary" the test
 * command reads), and exits non-zero when any test failed.
 */
#include <stdio.h>
#include <stdint.h>

#include <CUnit/Basic.h>

#include "unit.h"

int main(void)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (unit_register() != CUE_SUCCESS) {
		fprintf(stderr, "registering tests failed: %s\n",
			CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	if (CU_get_error() != CUE_SUCCESS)
		failed++;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
