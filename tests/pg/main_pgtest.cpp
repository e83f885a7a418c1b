#define BOOST_TEST_MODULE leasehold_pg
#include <boost/test/unit_test.hpp>
