/* licd: the license server (DESIGN.md section 6); see docs/licd.md. */
#include "cli.h"

int main(int argc, char **argv)
{
	return lsrv_cli_main(argc, argv);
}
